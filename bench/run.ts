import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Benchmark, BenchResult } from './harness.js';

// `npm run bench [name…]` runs every bench/*.bench.ts (or the named ones) in turn and prints JSON lines.
const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => wanted.length === 0 || wanted.some((name) => file.startsWith(name)))
  .sort();

let failed = false;
for (const file of files) {
  const module = (await import(new URL(file, import.meta.url).href)) as Benchmark;
  try {
    await module.run((result: BenchResult) => process.stdout.write(`${JSON.stringify(result)}\n`));
  } catch (error) {
    failed = true;
    process.stdout.write(`${JSON.stringify({ bench: file, error: String(error) })}\n`);
  }
}
process.exit(failed ? 1 : 0);
