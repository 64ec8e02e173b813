import type { Command } from 'commander';
import { loadDatabaseConfig, loadLanguage } from '../../config.js';
import { formatLocalTime } from '../../domain/schedule.js';
import { translator, type Translate } from '../../i18n/index.js';
import { createDatabaseIfMissing, createDb } from '../../store/db.js';
import { MigrationRunner } from '../../store/migrator.js';
import { explainServiceError, redactUrl } from '../service-errors.js';

/** The zone this machine shows times in; migrations belong to no campaign. */
const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function register(program: Command, t: Translate = translator(loadLanguage())): void {
  program
    .command('migrate')
    .description(t('migrate.description'))
    .option('--status', t('migrate.statusOption'))
    .option('--create-database', t('migrate.createDatabaseOption'))
    .action(async (options: { status?: boolean; createDatabase?: boolean }) => {
      // DATABASE_URL only: a broken LOA_CARRIERS has nothing to do with the schema.
      const { databaseUrl } = loadDatabaseConfig();
      const where = redactUrl(databaseUrl);
      try {
        if (options.createDatabase && (await createDatabaseIfMissing(databaseUrl))) {
          process.stdout.write(`${t('migrate.created', { url: where })}\n`);
        }
        const store = createDb(databaseUrl, { max: 1, applicationName: 'loa-migrate' });
        try {
          const runner = new MigrationRunner(store.pool);
          if (options.status) {
            const zone = localZone();
            for (const entry of await runner.status()) {
              const state = entry.appliedAt ? t('migrate.appliedAt', { at: formatLocalTime(entry.appliedAt, zone) }) : t('migrate.pending');
              process.stdout.write(`${state.padEnd(32)}  ${entry.name}\n`);
            }
            return;
          }
          const result = await runner.migrate();
          for (const name of result.applied) process.stdout.write(`${t('migrate.applied', { name })}\n`);
          const total = result.applied.length + result.skipped.length;
          process.stdout.write(`${t('migrate.upToDate', { url: where, count: total, now: result.applied.length })}\n`);
        } finally {
          await store.close();
        }
      } catch (error) {
        throw explainServiceError(error, { databaseUrl }, t);
      }
    });
}
