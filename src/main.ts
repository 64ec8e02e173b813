#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { ROLES, startService, type Role } from './service.js';

/** Process entry: `node dist/src/main.js --role api|worker|scheduler|all`. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string', default: 'all' } } });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')} (got '${values.role}')`);

  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const service = await startService(config, role, logger);

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

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`loa: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
