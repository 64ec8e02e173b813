import { isIP } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import { loadLanguage, loadLogConfig, loadSimulatorPort, simulatorCarriers } from '../../config.js';
import { CARRIER_IDS } from '../../domain/carrier.js';
import { translator, type Translate } from '../../i18n/index.js';
import { createLogger } from '../../logger.js';
import { startBuiltInSimulators } from '../../sim/built-in.js';
import type { ReceiptOutcomeRatios } from '../../sim/smsc-simulator.js';
import { CliError, EXIT } from '../exit-codes.js';
import { explainServiceError } from '../service-errors.js';

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

/** Option parsers; their messages become commander usage errors (exit 2). */
function parsers(t: Translate) {
  return {
    nonNegative(value: string): number {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new InvalidArgumentError(t('sim.expectNonNegative'));
      return number;
    },
    count(value: string): number {
      const number = Number(value);
      if (value.trim() === '' || !Number.isInteger(number) || number < 0) throw new InvalidArgumentError(t('sim.expectCount'));
      return number;
    },
    port(value: string): number {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 1 || number > 65533) throw new InvalidArgumentError(t('sim.expectPort'));
      return number;
    },
    probability(value: string): number {
      const number = Number(value);
      if (value.trim() === '' || !(number >= 0 && number <= 1)) throw new InvalidArgumentError(t('sim.expectProbability'));
      return number;
    },
    delayRange(value: string): { min: number; max: number } {
      const match = /^(\d+)(?:-(\d+))?$/.exec(value);
      if (!match) throw new InvalidArgumentError(t('sim.expectDelay'));
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : Number(match[2]);
      if (max < min) throw new InvalidArgumentError(t('sim.expectRange'));
      return { min, max };
    },
    /** An IP address or a host name; `999.1.1.1` looks like an address but is none. */
    host(value: string): string {
      const dotted = /^[\d.]+$/.test(value);
      const hostname = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value);
      if (isIP(value) === 0 && (dotted || !hostname)) throw new InvalidArgumentError(t('sim.expectHost'));
      return value;
    },
  };
}

/** The receipt mix of the weight flags, or undefined when none is given; all zero is refused (it would deliver everything). */
export function outcomeWeights(options: Pick<SimOptions, 'delivered' | 'undeliverable' | 'expired' | 'rejected'>, t: Translate): ReceiptOutcomeRatios | undefined {
  const weights = [options.delivered, options.undeliverable, options.expired, options.rejected];
  if (weights.every((weight) => weight === undefined)) return undefined;
  if (weights.every((weight) => !weight)) throw new CliError(t('sim.allWeightsZero'), EXIT.usage);
  return { delivered: options.delivered ?? 0, undeliverable: options.undeliverable ?? 0, expired: options.expired ?? 0, rejected: options.rejected ?? 0 };
}

export function register(program: Command, t: Translate = translator(loadLanguage())): void {
  const parse = parsers(t);
  program
    .command('sim')
    .description(t('sim.description'))
    .option('--port <port>', t('sim.portOption'), parse.port)
    .option('--host <host>', t('sim.hostOption'), parse.host, '127.0.0.1')
    .option('--tps <n>', t('sim.tpsOption'), parse.nonNegative)
    .option('--window <n>', t('sim.windowOption'), parse.count)
    .option('--max-binds <n>', t('sim.maxBindsOption'), parse.count)
    .option('--delivered <weight>', t('sim.weightOption', { stat: 'DELIVRD' }), parse.nonNegative)
    .option('--undeliverable <weight>', t('sim.weightOption', { stat: 'UNDELIV' }), parse.nonNegative)
    .option('--expired <weight>', t('sim.weightOption', { stat: 'EXPIRED' }), parse.nonNegative)
    .option('--rejected <weight>', t('sim.weightOption', { stat: 'REJECTD' }), parse.nonNegative)
    .option('--receipt-delay <ms>', t('sim.receiptDelayOption'), parse.delayRange)
    .option('--early-receipts <p>', t('sim.earlyReceiptsOption'), parse.probability)
    .option('--latency <ms>', t('sim.latencyOption'), parse.nonNegative)
    .action(async (options: SimOptions) => {
      const outcomes = outcomeWeights(options, t);
      // Only what the simulator needs: a broken LOA_CARRIERS or DATABASE_URL does not concern it.
      const log = loadLogConfig();
      const logger = createLogger(log.logLevel, undefined, log.logFormat).child({ component: 'loa-sim' });
      const basePort = options.port ?? loadSimulatorPort();
      const carriers = simulatorCarriers(basePort);
      for (const id of CARRIER_IDS) {
        carriers[id] = { ...carriers[id], binds: carriers[id].binds.map((bind) => ({ ...bind, host: options.host })) };
      }
      let running: Awaited<ReturnType<typeof startBuiltInSimulators>>;
      try {
        running = await startBuiltInSimulators(carriers, logger, {
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
      } catch (error) {
        throw explainServiceError(error, { listens: [{ host: options.host, hostSetting: '--host', port: basePort, count: CARRIER_IDS.length, setting: options.port ? '--port' : 'LOA_SIM_PORT' }] }, t);
      }
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
