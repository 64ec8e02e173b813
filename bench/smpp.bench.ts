import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/logger.js';
import { SmscSimulator } from '../src/sim/smsc-simulator.js';
import { batchesOf, boundSessions, submitterFor, testParts } from '../test/helpers/smpp.js';
import { rssMb, type Report } from './harness.js';

const logger = createLogger('error');
const credentials = { systemId: 'loa-bench', password: 'bench' };
const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** The uncapped SMSC runs in its own process so that it is not what limits the client. */
async function childSimulator(): Promise<{ port: number; child: ChildProcess; stop: () => Promise<void> }> {
  const code = `
    const { SmscSimulator } = await import(${JSON.stringify(new URL('src/sim/smsc-simulator.ts', `file://${repoRoot}`).href)});
    const sim = new SmscSimulator({ carrier: 'viettel', systemId: ${JSON.stringify(credentials.systemId)}, password: ${JSON.stringify(credentials.password)}, recordSubmits: false, receipts: { delayMs: 0 } });
    const port = await sim.listen();
    process.stdout.write(JSON.stringify({ port }) + '\\n');
    process.stdin.on('data', () => {});
    process.stdin.on('end', async () => { process.stdout.write(JSON.stringify({ accepted: sim.stats.accepted }) + '\\n'); await sim.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`simulator process exited (${code})`)));
  });
  return {
    port,
    child,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    },
  };
}

function parts(count: number, registeredDelivery: number) {
  const shortMessage = Buffer.from('Thong bao: lich tiem chung mui 3 tai tram y te phuong, mang theo CCCD.', 'latin1');
  return testParts(count, { registeredDelivery, destination: (i) => `849${String(i % 10_000_000).padStart(8, '0')}`, shortMessage: () => shortMessage });
}

function bindSessions(port: number, count: number, window: number) {
  return boundSessions({ host: '127.0.0.1', port, ...credentials }, { carrier: 'viettel', count, window, label: (i) => `bench/${i}`, bindTimeoutMs: 10_000, logger });
}

/** Also run by engine.bench.ts, to report the engine's rate as a share of the transport's in the same run. */
export async function uncapped(report: Report, registeredDelivery: number, name: string): Promise<void> {
  const sim = await childSimulator();
  const binds = 2;
  const { source, close } = await bindSessions(sim.port, binds, 200);
  let receipts = 0;
  for (const session of source.sessions) session.on('deliver', (_deliver, ack) => {
    receipts += 1;
    ack();
  });
  const sut = submitterFor('viettel', source, 100_000, { logger });
  const count = 100_000;
  const all = parts(count, registeredDelivery);
  // Warm up (JIT, socket buffers) before measuring.
  await sut.run(batchesOf(all.slice(0, 5_000), 1_000), { beforeSend: async (batch) => batch, onResult: () => {} });
  const start = performance.now();
  const summary = await sut.run(batchesOf(all.slice(5_000), 1_000), { beforeSend: async (batch) => batch, onResult: () => {} });
  const seconds = (performance.now() - start) / 1000;
  sut.dispose();
  await close();
  await sim.stop();
  report({
    bench: name,
    value: Math.round(summary.submitted / seconds),
    unit: 'segments/s',
    binds,
    segments: summary.submitted,
    failed: summary.failed + summary.ambiguous + summary.unsent,
    receipts: registeredDelivery ? receipts : undefined,
    rssMb: rssMb(),
  });
}

async function capped(report: Report): Promise<void> {
  const cap = 1_000;
  const binds = 2;
  const sim = new SmscSimulator({ carrier: 'viettel', ...credentials, tps: cap, recordSubmits: false });
  const port = await sim.listen();
  const { source, close } = await bindSessions(port, binds, 50);
  const sut = submitterFor('viettel', source, cap / binds, { logger });
  const summary = await sut.run(batchesOf(parts(cap * 6, 0), 500), { beforeSend: async (batch) => batch, onResult: () => {} });
  sut.dispose();
  await close();
  // Steady state: whole seconds only (the first and last are partial).
  const seconds = [...sim.acceptedPerSecond.entries()].sort(([a], [b]) => a - b).map(([, count]) => count);
  const steady = seconds.slice(1, -1);
  const share = steady.reduce((sum, count) => sum + count, 0) / (steady.length * cap);
  await sim.close();
  report({
    bench: 'smpp.submit.capped',
    value: Number(share.toFixed(4)),
    unit: 'ratio',
    cap,
    binds,
    throttled: sim.stats.throttled,
    perSecond: seconds,
    submitted: summary.submitted,
    rssMb: rssMb(),
  });
}

export async function run(report: Report): Promise<void> {
  await uncapped(report, 0, 'smpp.submit.uncapped');
  await uncapped(report, 1, 'smpp.submit.uncapped.with-receipts');
  await capped(report);
}
