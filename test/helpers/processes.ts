import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Loa as its own processes, from the sources through tsx: the service (src/main.ts) and the `loa`
 * command (src/cli/main.ts). The environment is only what the test gives (plus PATH and HOME), so
 * nothing of the developer's shell leaks in.
 */

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function processEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra };
}

/** `loa ARGS…` to completion. */
export function runLoaProcess(args: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: processEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

export type LogLine = Record<string, unknown>;

export interface ServiceProcess {
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far, parsed as JSON where it is (`{ text }` otherwise). */
  lines: LogLine[];
  /** stdout and stderr as text. */
  output(): string;
  stderr(): string;
  exited: Promise<number | null>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The HTTP port once `loa started` is logged (PORT=0 picks a free one). */
  port(timeoutMs?: number): Promise<number>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * The real entry point with `args` (e.g. `--role all`), LOG_LEVEL info unless `env` says otherwise;
 * `entry` 'src/cli/main.ts' runs a long-lived `loa` command instead (e.g. `loa sim`).
 */
export function startServiceProcess(args: string[], env: Record<string, string>, entry = 'src/main.ts'): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { env: processEnv({ LOG_LEVEL: 'info', ...env }) });
  const lines: LogLine[] = [];
  const waiters: Array<() => void> = [];
  let stdout = '';
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stdout += text;
    buffered += text;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        lines.push({ text: part });
      }
    }
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLog = async (predicate: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(predicate);
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`log line not seen; stderr: ${stderr}\nstdout: ${JSON.stringify(lines.slice(-5))}`);
      }
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  return {
    child,
    lines,
    output: () => stdout + stderr,
    stderr: () => stderr,
    exited,
    waitForLog,
    port: async (timeoutMs) => (await waitForLog((line) => line.msg === 'loa started', timeoutMs)).port as number,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Whether nothing listens on `port` at 127.0.0.1 (it is bound and closed again to find out). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port whose next `count` ports are free too (LOA_SIM_PORT takes three in a row). */
export async function freePortRun(count = 3): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isPortFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}
