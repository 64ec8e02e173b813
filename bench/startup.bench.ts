import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { throwawayDatabase, type Report } from './harness.js';


function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/**
 * Start-up of the built service (`--role all`, simulated carriers) on an empty database:
 * time from spawn to the first 200 on /health, and RSS after it has sat idle.
 */
export async function run(report: Report): Promise<void> {
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  const database = await throwawayDatabase('startup');
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/src/main.js', '--role', 'all'], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      PORT: String(port),
      LOA_SIM_PORT: String(port + 1),
      LOA_REDIS_PREFIX: `loa-bench-${randomBytes(3).toString('hex')}`,
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  try {
    let healthyMs = Number.NaN;
    while (performance.now() - started < 30_000) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) {
        healthyMs = performance.now() - started;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    report({ bench: 'service.startup.healthy', value: Math.round(healthyMs), unit: 'ms', role: 'all', database: 'empty (migrations applied)' });
    await new Promise((resolve) => setTimeout(resolve, 5000));
    report({ bench: 'service.idle.rss', value: rssOf(child.pid ?? 0), unit: 'MB', role: 'all', idleSeconds: 5 });
    const stopping = performance.now();
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    const code = await exited;
    report({ bench: 'service.shutdown', value: Math.round(performance.now() - stopping), unit: 'ms', exitCode: code });
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await database.drop();
  }
}
