import { Option, type Command } from 'commander';
import { SCREEN_KINDS } from '../../../adapters/screens/index.js';
import type { Translate } from '../../i18n/index.js';
import type { ScreenView } from '../../screens/screens.service.js';
import { cliContext, formatTime, printJson, printLines } from '../output.js';

interface AddOptions {
  id: string;
  name: string;
  kind: string;
  tag?: string[];
  province?: string;
  commune?: string;
  location?: string;
  lang?: string[];
  pollInterval?: string;
  pushUrl?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function printToken(result: { screen: ScreenView; token: string }, t: Translate, key: 'screens.added' | 'screens.tokenIssued'): void {
  const { screen, token } = result;
  printLines([t(key, { id: screen.id, kind: screen.kind, name: screen.name }), '', `  ${token}`, '', t('screens.tokenHint', { id: screen.id })]);
}

/** `loa screens add|list|token`: the screens registry through the API (admin key for add and token). */
export function register(program: Command, t: Translate): void {
  const screens = program.command('screens').description(t('screens.description'));

  screens
    .command('add')
    .description(t('screens.add.description'))
    .requiredOption('--id <id>', t('screens.add.id'))
    .requiredOption('--name <name>', t('screens.add.name'))
    .addOption(new Option('--kind <kind>', t('screens.add.kind')).choices(SCREEN_KINDS).makeOptionMandatory())
    .option('--tag <tag>', t('screens.add.tag'), collect)
    .option('--province <code>', t('screens.add.province'))
    .option('--commune <code>', t('screens.add.commune'))
    .option('--location <text>', t('screens.add.location'))
    .option('--lang <code>', t('screens.add.lang'), collect)
    .option('--poll-interval <seconds>', t('screens.add.pollInterval'))
    .option('--push-url <url>', t('screens.add.pushUrl'))
    .option('--json', t('option.json'))
    .action(async (options: AddOptions) => {
      const { api, t: tr } = cliContext();
      const result = await api.post<{ screen: ScreenView; token: string }>('/v1/screens', {
        body: {
          id: options.id,
          name: options.name,
          kind: options.kind,
          ...(options.tag ? { tags: options.tag } : {}),
          ...(options.province ? { province: options.province } : {}),
          ...(options.commune ? { commune: options.commune } : {}),
          ...(options.location ? { location: options.location } : {}),
          ...(options.lang ? { languages: options.lang } : {}),
          ...(options.pollInterval ? { pollInterval: Number(options.pollInterval) } : {}),
          ...(options.pushUrl ? { pushUrl: options.pushUrl } : {}),
        },
      });
      if (options.json) return printJson(result);
      printToken(result, tr, 'screens.added');
    });

  screens
    .command('list')
    .description(t('screens.list.description'))
    .option('--json', t('option.json'))
    .action(async (options: { json?: boolean }) => {
      const { api, t: tr, settings } = cliContext();
      const list = await api.get<ScreenView[]>('/v1/screens');
      if (options.json) return printJson(list);
      if (list.length === 0) return printLines([tr('screens.none')]);
      printLines([
        ...list.map((screen) =>
          tr('screens.line', {
            id: screen.id,
            kind: screen.kind,
            name: screen.name,
            status: tr(`screens.status.${screen.status}`),
            seen: screen.lastSeen ? formatTime(screen.lastSeen, settings.language, tr) : '—',
            tags: screen.tags.join(',') || '—',
            area: [screen.province, screen.commune].filter(Boolean).join('/') || '—',
          }),
        ),
        tr('time.zoneNote'),
      ]);
    });

  screens
    .command('token')
    .description(t('screens.token.description'))
    .argument('<id>', t('screens.add.id'))
    .option('--json', t('option.json'))
    .action(async (id: string, options: { json?: boolean }) => {
      const { api, t: tr } = cliContext();
      const result = await api.post<{ screen: ScreenView; token: string }>(`/v1/screens/${encodeURIComponent(id)}/token`);
      if (options.json) return printJson(result);
      printToken(result, tr, 'screens.tokenIssued');
    });
}
