import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm start` must hand SIGTERM to the service (issue 7, item 1): a supervisor that stops npm must
 * not leave a live process holding its ports and SMPP binds. The real `start` script of
 * package.json runs under the real npm, in a scratch package whose `build` does nothing and whose
 * dist/src/main.js only listens on a port and reports its pid, so no build is needed here.
 */
const scratch = mkdtempSync(join(tmpdir(), 'loa-npm-start-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('passes SIGTERM on to the service process, leaving nothing behind', async () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    const start = scripts.start;
    expect(start).toBeDefined();
    const pkg = { name: 'loa-start-probe', version: '0.0.0', private: true, scripts: { ...(scripts.prestart ? { prestart: scripts.prestart } : {}), start, build: 'true' } };
    writeFileSync(join(scratch, 'package.json'), JSON.stringify(pkg));
    mkdirSync(join(scratch, 'dist/src'), { recursive: true });
    writeFileSync(join(scratch, 'dist/src/main.js'), "require('node:net').createServer().listen(0, '127.0.0.1', () => console.log(`service-pid ${process.pid}`));\n");
    writeFileSync(join(scratch, 'dist/package.json'), '{"type":"commonjs"}');

    const npm = spawn('npm', ['start'], { cwd: scratch, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? scratch } });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => npm.on('exit', () => resolve()));

    let servicePid: number | undefined;
    for (let i = 0; i < 300 && servicePid === undefined; i++) {
      servicePid = Number(/service-pid (\d+)/.exec(output)?.[1]) || undefined;
      if (servicePid === undefined) await delay(100);
    }
    expect(servicePid, output).toBeDefined();
    const pid = servicePid!;
    try {
      npm.kill('SIGTERM');
      await exited;
      for (let i = 0; i < 100 && alive(pid); i++) await delay(100);
      expect(alive(pid), 'the service outlived npm start').toBe(false);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
