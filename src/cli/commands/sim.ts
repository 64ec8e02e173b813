import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, simulatorCarriers } from '../../config.js';
import { CARRIER_IDS } from '../../domain/carrier.js';
import { createLogger } from '../../logger.js';
import { startBuiltInSimulators } from '../../sim/built-in.js';
import type { ReceiptOutcomeRatios } from '../../sim/smsc-simulator.js';

interface SimOptions {
  port?: number;
  host: string;
  tps?: number;
  window?: number;
  maxBinds?: number;
  delivered?: number;
  undeliverable?: number;
  expired?: number;
  rejected?: number;
  receiptDelay?: { min: number; max: number };
  earlyReceipts?: number;
  latency?: number;
}

function nonNegative(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return number;
}

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 65533) throw new InvalidArgumentError('expected a port 1–65533 (three consecutive ports are used)');
  return number;
}

function probability(value: string): number {
  const number = Number(value);
  if (!(number >= 0 && number <= 1)) throw new InvalidArgumentError('expected a probability between 0 and 1');
  return number;
}

function delayRange(value: string): { min: number; max: number } {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value);
  if (!match) throw new InvalidArgumentError("expected milliseconds ('500') or a range ('200-2000')");
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) throw new InvalidArgumentError('the range must be low-high');
  return { min, max };
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('run simulated SMSCs for viettel, vnpt and mobifone (consecutive ports) until SIGINT/SIGTERM')
    .option('--port <port>', 'first port (default LOA_SIM_PORT, 2775)', port)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--tps <n>', 'TPS cap of every carrier, 0 for uncapped (default: each carrier’s granted TPS)', nonNegative)
    .option('--window <n>', 'outstanding submits per bind before ESME_RMSGQFUL, 0 for unlimited', nonNegative)
    .option('--max-binds <n>', 'concurrent binds per carrier before ESME_RBINDFAIL, 0 for unlimited', nonNegative)
    .option('--delivered <weight>', 'weight of DELIVRD receipts', nonNegative)
    .option('--undeliverable <weight>', 'weight of UNDELIV receipts', nonNegative)
    .option('--expired <weight>', 'weight of EXPIRED receipts', nonNegative)
    .option('--rejected <weight>', 'weight of REJECTD receipts', nonNegative)
    .option('--receipt-delay <ms>', "receipt delay, e.g. '500' or '200-2000'", delayRange)
    .option('--early-receipts <p>', 'probability that a receipt overtakes its submit_sm_resp', probability)
    .option('--latency <ms>', 'delay before each submit_sm_resp', nonNegative)
    .action(async (options: SimOptions) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel).child({ component: 'loa-sim' });
      const basePort = options.port ?? config.simulatorPort;
      const carriers = simulatorCarriers(basePort);
      for (const id of CARRIER_IDS) {
        carriers[id] = { ...carriers[id], binds: carriers[id].binds.map((bind) => ({ ...bind, host: options.host })) };
      }
      const weights = [options.delivered, options.undeliverable, options.expired, options.rejected];
      const outcomes: ReceiptOutcomeRatios | undefined = weights.some((weight) => weight !== undefined)
        ? { delivered: options.delivered ?? 0, undeliverable: options.undeliverable ?? 0, expired: options.expired ?? 0, rejected: options.rejected ?? 0 }
        : undefined;
      const running = await startBuiltInSimulators(carriers, logger, {
        tps: options.tps,
        window: options.window,
        maxBinds: options.maxBinds,
        latencyMs: options.latency,
        receipts: {
          ...(outcomes ? { outcomes } : {}),
          ...(options.receiptDelay ? { delayMs: options.receiptDelay } : {}),
          ...(options.earlyReceipts !== undefined ? { earlyProbability: options.earlyReceipts } : {}),
        },
      });
      for (const simulator of running.simulators) {
        const carrier = carriers[simulator.carrier as keyof typeof carriers];
        const bind = carrier.binds[0];
        logger.info(
          { carrier: simulator.carrier, host: simulator.host, port: simulator.port, systemId: bind?.systemId, tps: simulator.tps || 'uncapped' },
          `simulated ${simulator.carrier} SMSC listening on ${simulator.host}:${simulator.port}`,
        );
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info({ signal }, 'stopping simulated SMSCs');
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await running.close();
      logger.flush();
    });
}
