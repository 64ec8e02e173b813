/** The PostgreSQL store: one Store (pool + Kysely), the migrator and one repository per concern. */
export { createDb, parseInt8, Store, type StoreOptions } from './db.js';
export * from './database.js';
export { findMigrationsDirectory, MigrationError, MigrationRunner, readMigrations, type MigrationFile, type MigrationResult } from './migrator.js';
export * from './message.repository.js';
export * from './receipt.repository.js';
export * from './run.repository.js';
export * from './campaign.repository.js';
export * from './audience.repository.js';
export * from './screen.repository.js';
export * from './api-key.repository.js';
export * from './audit.repository.js';
export * from './compile.repository.js';
export * from './run-count.repository.js';
export * from './worker-lease.repository.js';
