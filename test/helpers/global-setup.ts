import type { TestProject } from 'vitest/node';
import { adminUrl, ensureTemplateDatabase } from './db.js';

/**
 * vitest globalSetup of the integration project: migrate a template database once per run;
 * each test file then clones it (test/helpers/db.ts createTestDatabase). The admin URL
 * defaults to the local PostgreSQL and can be changed with TEST_DATABASE_ADMIN_URL.
 */
export default async function setup(project: TestProject): Promise<void> {
  const admin = adminUrl();
  const template = await ensureTemplateDatabase(admin);
  project.provide('loaTestAdminUrl', admin);
  project.provide('loaTestTemplate', template);
}
