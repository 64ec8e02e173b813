/* global console */
// Bundles the operator console (src/console) into dist/console: one ES module, its CSS and page.
// No CDN: everything the browser loads is served by the fastify app from this directory.
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'console');
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(root, 'src/console/main.ts')],
  outfile: join(out, 'console.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  // src/domain/campaign.ts hashes versions with node:crypto on the server only (see the stub).
  // rrule: the UMD bundle Node loads (src/domain/recurrence.ts takes its default export); its ESM build has none.
  alias: { 'node:crypto': join(root, 'src/console/node-crypto-stub.ts'), rrule: createRequire(import.meta.url).resolve('rrule') },
  logLevel: 'warning',
});
await copyFile(join(root, 'src/console/index.html'), join(out, 'index.html'));
await copyFile(join(root, 'src/console/console.css'), join(out, 'console.css'));
const size = (await stat(join(out, 'console.js'))).size;
console.log(`console bundle: dist/console/console.js ${(size / 1024).toFixed(1)} KiB`);
