import { CliError, EXIT } from './cli/exit-codes.js';
import { explainServiceError } from './cli/service-errors.js';
import { ConfigError, loadConfig, loadLanguage } from './config.js';
import { DomainError } from './domain/errors.js';
import { translator, type Translate } from './i18n/index.js';
import { createLogger } from './logger.js';
import { ROLES, StartupError, startService, type Role } from './service.js';

/** What a command prints when it stops: the message of a user-facing error, the stack of a bug. */
export function describeFatal(error: unknown): string {
  if (error instanceof ConfigError || error instanceof DomainError || error instanceof StartupError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** The --role flag of `node dist/src/main.js`; a bad one is a usage error (exit 2), as commander's are. */
export function parseRole(value: string, t: Translate = translator(loadLanguage())): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new CliError(t('serve.badRole', { roles: ROLES.join(', '), value }), EXIT.usage);
  return value as Role;
}

/**
 * Runs a Loa process for `role` until SIGTERM/SIGINT, then shuts it down within the grace period.
 * A start-up failure a person can fix (a port in use, PostgreSQL down, the database missing) is
 * thrown as a one-line CliError naming the variable to change.
 */
export async function runUntilSignalled(role: Role, t: Translate = translator(loadLanguage())): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config, role, logger);
  } catch (error) {
    logger.flush();
    const listens = [{ host: config.host, hostSetting: 'HOST', port: config.port, count: 1, setting: 'PORT' }];
    // Without LOA_CARRIERS this process plays the three SMSCs itself, on LOA_SIM_PORT and the next two ports.
    if (config.carriersSource === 'simulator') listens.push({ host: '127.0.0.1', hostSetting: 'LOA_SIM_PORT', port: config.simulatorPort, count: 3, setting: 'LOA_SIM_PORT' });
    throw explainServiceError(error, { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, listens }, t);
  }

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    // A stuck dependency must not keep the process alive past the orchestrator's grace period.
    const force = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    service.stop().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exitCode = 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
