import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SIMULATOR_PASSWORD, simulatorCarriers } from '../../src/config.js';
import { CARRIER_IDS } from '../../src/domain/carrier.js';
import { createLogger } from '../../src/logger.js';
import { startBuiltInSimulators } from '../../src/sim/built-in.js';
import { SmscSimulator } from '../../src/sim/smsc-simulator.js';
import { SmppSession, type SubmitResult, type SubmitSm } from '../../src/smpp/session.js';
import { freePortRun, isPortFree } from '../helpers/processes.js';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function message(i: number): SubmitSm {
  return {
    sourceAddr: 'SOTTTT',
    sourceAddrTon: 5,
    sourceAddrNpi: 0,
    destinationAddr: `8490${String(i).padStart(7, '0')}`,
    destAddrTon: 1,
    destAddrNpi: 1,
    registeredDelivery: 0,
    esmClass: 0,
    dataCoding: 0,
    shortMessage: Buffer.from(`sim ${i}`, 'latin1'),
  };
}

describe(SmscSimulator.name, () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function session(port: number, systemId: string, password: string, window = 50): SmppSession {
    const sut = new SmppSession(
      { carrier: 'sim-test', endpoint: { host: '127.0.0.1', port, systemId, password }, window, reconnect: { baseMs: 50, maxMs: 200, bindRefusedBaseMs: 60_000, bindRefusedMaxMs: 60_000 } },
      logger,
    );
    cleanups.push(() => sut.close());
    sut.start();
    return sut;
  }

  it('answers ESME_RTHROTTLED above its TPS cap and counts accepted submits per calendar second', async () => {
    const sut = new SmscSimulator({ carrier: 'vnpt', systemId: 'cap', password: 'pw', tps: 10 });
    cleanups.push(() => sut.close());
    await sut.listen();
    const client = session(sut.port, 'cap', 'pw');
    await client.waitUntilBound(2_000);

    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => client.submit(message(i))));
    const ok = results.filter((result) => result.kind === 'ok');
    const throttled = results.filter((result): result is Extract<SubmitResult, { kind: 'error' }> => result.kind === 'error');
    // 30 at once fall into one calendar second, or two when they straddle a boundary.
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(ok.length).toBeLessThanOrEqual(20);
    expect(throttled.every((result) => result.status === 0x58)).toBe(true);
    expect(ok.length + throttled.length).toBe(30);
    expect(sut.maxAcceptedPerSecond()).toBeLessThanOrEqual(10);
    expect(sut.stats).toMatchObject({ received: 30, accepted: ok.length, throttled: throttled.length });
    expect(sut.submits).toHaveLength(ok.length);
  });

  it('starts one simulated SMSC per carrier on the simulator config, with its credentials', async () => {
    const base = await freePortRun();
    const carriers = simulatorCarriers(base);
    const sut = await startBuiltInSimulators(carriers, logger);
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await sut.close();
    });
    expect(sut.simulators.map((simulator) => [simulator.carrier, simulator.port])).toEqual(CARRIER_IDS.map((id, i) => [id, base + i]));

    for (const id of CARRIER_IDS) {
      const bind = carriers[id].binds[0]!;
      const client = session(bind.port, bind.systemId, SIMULATOR_PASSWORD);
      await client.waitUntilBound(2_000);
      expect((await client.submit(message(1))).kind).toBe('ok');
      await client.close();
    }
    const refused = session(base, 'loa-viettel', 'wrong');
    const alert = await new Promise<number>((resolve) => refused.once('alert', (a) => resolve(a.status)));
    expect(alert).toBe(0x0e);

    await sut.close();
    closed = true;
    expect(await isPortFree(base)).toBe(true);
  });

  it('runs as `loa sim` until SIGTERM, on the ports and TPS given', async () => {
    const base = await freePortRun();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sim', '--port', String(base), '--tps', '5'], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const listening: Array<{ carrier: string; port: number }> = [];
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; carrier?: string; port?: number };
        if (entry.msg?.startsWith('simulated ') && entry.carrier && entry.port) listening.push({ carrier: entry.carrier, port: entry.port });
        if (listening.length === 3) resolve();
      });
      void exited.then((code) => reject(new Error(`loa sim exited with ${code}: ${stderr}`)));
    });
    expect(listening).toEqual(CARRIER_IDS.map((carrier, i) => ({ carrier, port: base + i })));

    const client = session(base + 1, 'loa-vnpt', SIMULATOR_PASSWORD);
    await client.waitUntilBound(5_000);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.submit(message(i))));
    const ok = results.filter((result) => result.kind === 'ok').length;
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(ok).toBeLessThanOrEqual(10);
    expect(results.filter((result) => result.kind === 'error' && result.status === 0x58)).toHaveLength(20 - ok);
    await client.close();

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
