import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { API_ROLES, type ApiRole } from '../../domain/api-key.js';
import type { Translate } from '../../i18n/index.js';
import { CliError, EXIT } from '../exit-codes.js';
import { cliContext, printJson, printLines } from '../output.js';

interface UserView {
  id: number;
  name: string;
  role: ApiRole;
  createdAt: string;
  disabled: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * `loa users add NAME --role R`: a console account, through the API (admin key in LOA_TOKEN).
 * Without --password-stdin a random password is made and printed once: it is never stored, only
 * its argon2 hash, so nobody can read it back later.
 */
async function addUser(name: string, options: { role: ApiRole; passwordStdin?: boolean; json?: boolean }, t: Translate): Promise<void> {
  const { api } = cliContext();
  const generated = options.passwordStdin ? undefined : randomBytes(12).toString('base64url');
  const password = generated ?? (await readStdin());
  if (password.length === 0) throw new CliError(t('console.users.emptyPassword'), EXIT.invalidInput);
  const user = await api.post<UserView>('/v1/users', { body: { name, role: options.role, password } });
  if (options.json) return printJson({ ...user, ...(generated ? { password: generated } : {}) });
  printLines([t('console.users.added', { id: user.id, name: user.name, role: user.role }), ...(generated ? ['', `  ${generated}`, '', t('console.users.passwordOnce')] : [])]);
}

export function register(program: Command, t: Translate): void {
  const users = program.command('users').description(t('console.users.description'));
  users
    .command('add')
    .description(t('console.users.add.description'))
    .argument('<name>', t('console.users.add.name'))
    .addOption(new Option('--role <role>', t('console.users.add.role')).choices(API_ROLES).makeOptionMandatory())
    .option('--password-stdin', t('console.users.add.passwordStdin'))
    .option('--json', t('option.json'))
    .action((name: string, options: { role: ApiRole; passwordStdin?: boolean; json?: boolean }) => addUser(name, options, t));
  users
    .command('list')
    .description(t('console.users.list.description'))
    .option('--json', t('option.json'))
    .action(async (options: { json?: boolean }) => {
      const { api, t } = cliContext();
      const list = await api.get<UserView[]>('/v1/users');
      if (options.json) return printJson(list);
      if (list.length === 0) return printLines([t('console.users.none')]);
      printLines(list.map((user) => t('console.users.line', { id: user.id, name: user.name, role: user.role, disabled: user.disabled ? t('console.users.disabledSuffix') : '' })));
    });
}
