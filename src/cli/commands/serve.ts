import { Option, type Command } from 'commander';
import { loadLanguage } from '../../config.js';
import { translator, type Translate } from '../../i18n/index.js';
import { runUntilSignalled } from '../../process.js';
import { ROLES, type Role } from '../../service.js';

export function register(program: Command, t: Translate = translator(loadLanguage())): void {
  program
    .command('serve')
    .description(t('serve.description'))
    .addOption(new Option('--role <role>', t('serve.roleOption')).choices(ROLES).default('all'))
    .action(async (options: { role: Role }) => {
      await runUntilSignalled(options.role, t);
    });
}
