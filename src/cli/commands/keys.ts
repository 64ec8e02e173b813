import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { loadConfig } from '../../config.js';
import { API_ROLES, type ApiRole } from '../../domain/api-key.js';
import { formatAreas, parseAreas } from '../../domain/area-scope.js';
import type { Translate } from '../../i18n/index.js';
import type { ApiKeyView } from '../../services/api-keys.service.js';
import { ApiKeyService } from '../../services/api-keys.service.js';
import { ApiKeyRepository } from '../../store/api-key.repository.js';
import { AuditRepository } from '../../store/audit.repository.js';
import { createDb } from '../../store/db.js';
import { CliError, EXIT } from '../exit-codes.js';
import { cliContext, formatTime, printJson, printLines } from '../output.js';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function redactUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

/** PostgreSQL refused or is missing the tables: say which, with the exit code of the cause. */
function databaseError(error: unknown, databaseUrl: string, t: Translate): CliError {
  const pgError = error as { code?: string; message?: string };
  const url = redactUrl(databaseUrl);
  if (pgError.code === '42P01' || pgError.code === '42704') return new CliError(t('error.notMigrated', { url }), EXIT.unreachable);
  return new CliError(t('error.database', { url, reason: pgError.code ?? pgError.message ?? String(error) }), EXIT.unreachable);
}

/**
 * `loa keys create` talks to PostgreSQL itself (DATABASE_URL): the first key must exist before
 * any request can be authorised. The actor in the audit log is the operating-system user.
 */
async function createKey(options: { role: ApiRole; name?: string; areas?: string; json?: boolean }): Promise<void> {
  const { t } = cliContext();
  const areas = options.areas === undefined ? undefined : areasOption(options.role, options.areas, t);
  const config = loadConfig();
  const store = createDb(config.databaseUrl, { max: 1, applicationName: 'loa-keys' });
  const user = osUser();
  let key: ApiKeyView & { token: string };
  try {
    const service = new ApiKeyService(new ApiKeyRepository(store.db), new AuditRepository(store.db));
    key = await service.create({ role: options.role, name: options.name ?? `${user}-${options.role}`, ...(areas ? { areas } : {}) }, `cli:${user}`);
  } catch (error) {
    throw databaseError(error, config.databaseUrl, t);
  } finally {
    await store.close();
  }
  if (options.json) return printJson({ token: key.token, id: key.id, role: key.role, name: key.name, areas: key.areas, createdAt: key.createdAt });
  const scope = key.areas ? [t('keys.scoped', { areas: key.areas.join(', ') })] : [];
  printLines([t('keys.created', { id: key.id, role: key.role, name: key.name }), ...scope, '', `  ${key.token}`, '', t('keys.hint')]);
}

/** Checked before PostgreSQL is asked: a bad list is a usage error naming --areas. */
function areasOption(role: ApiRole, value: string, t: Translate): string[] {
  if (role === 'admin') throw new CliError(t('keys.areasAdmin'), EXIT.usage);
  const parsed = parseAreas([value]);
  if (!parsed.ok) throw new CliError(t('keys.badAreas', { reason: parsed.message }), EXIT.usage);
  return formatAreas(parsed.scope);
}

function parseKeyId(value: string, t: Translate): number {
  const id = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(id) || id < 1) throw new CliError(t('keys.badId', { value }), EXIT.invalidInput);
  return id;
}

export function register(program: Command, t: Translate): void {
  const keys = program.command('keys').description(t('keys.description'));

  keys
    .command('create')
    .description(t('keys.create.description'))
    .addOption(new Option('--role <role>', t('keys.create.role')).choices(API_ROLES).makeOptionMandatory())
    .option('--name <name>', t('keys.create.name'))
    .option('--areas <list>', t('keys.create.areas'))
    .option('--json', t('keys.create.json'))
    .action(createKey);

  keys
    .command('list')
    .description(t('keys.list.description'))
    .option('--json', t('option.json'))
    .action(async (options: { json?: boolean }) => {
      const { api, t, settings } = cliContext();
      const list = await api.get<ApiKeyView[]>('/v1/keys');
      if (options.json) return printJson(list);
      if (list.length === 0) return printLines([t('keys.none')]);
      const time = (iso: string | null) => formatTime(iso, settings.language, t);
      printLines([
        ...list.map((key) =>
          t('keys.line', { id: key.id, role: key.role, name: key.name, created: time(key.createdAt), revoked: key.revokedAt ? t('keys.revokedSuffix', { at: time(key.revokedAt) }) : '' }) +
          (key.areas ? t('keys.areasSuffix', { areas: key.areas.join(', ') }) : ''),
        ),
        t('time.zoneNote'),
      ]);
    });

  keys
    .command('revoke')
    .description(t('keys.revoke.description'))
    .argument('<id>', t('keys.revoke.id'))
    .option('--json', t('option.json'))
    .action(async (value: string, options: { json?: boolean }) => {
      const { api, t } = cliContext();
      const key = await api.delete<ApiKeyView>(`/v1/keys/${parseKeyId(value, t)}`);
      if (options.json) return printJson(key);
      printLines([t('keys.revoked', { id: key.id, name: key.name })]);
    });
}
