import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createDatabaseIfMissing, createDb } from '../../store/db.js';
import { MigrationRunner } from '../../store/migrator.js';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply the pending SQL migrations (src/store/migrations) to DATABASE_URL')
    .option('--status', 'list the migrations and whether each is applied, change nothing')
    .option('--create-database', 'create the database first if it does not exist')
    .action(async (options: { status?: boolean; createDatabase?: boolean }) => {
      const config = loadConfig();
      const where = redactUrl(config.databaseUrl);
      if (options.createDatabase && (await createDatabaseIfMissing(config.databaseUrl))) {
        process.stdout.write(`created database ${where}\n`);
      }
      const store = createDb(config.databaseUrl, { max: 1, applicationName: 'loa-migrate' });
      try {
        const runner = new MigrationRunner(store.pool);
        if (options.status) {
          for (const entry of await runner.status()) {
            process.stdout.write(`${entry.appliedAt ? `applied ${entry.appliedAt.toISOString()}` : 'pending                          '}  ${entry.name}\n`);
          }
          return;
        }
        const result = await runner.migrate();
        for (const name of result.applied) process.stdout.write(`applied ${name}\n`);
        const total = result.applied.length + result.skipped.length;
        process.stdout.write(`${where}: schema up to date, ${total} migration${total === 1 ? '' : 's'} (${result.applied.length} applied now)\n`);
      } finally {
        await store.close();
      }
    });
}

/** The URL without its password, for output. */
function redactUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}
