import type { Command } from 'commander';
import type { Translate } from '../../i18n/index.js';
import type { LoudspeakerSchedule } from '../../loudspeakers/loudspeaker-adapter.js';
import type { LoudspeakerView } from '../../loudspeakers/loudspeakers.service.js';
import { CliError, EXIT } from '../exit-codes.js';
import { cliContext, formatTime, printJson, printLines } from '../output.js';

interface AddOptions {
  id: string;
  name: string;
  commune: string;
  province?: string;
  hamlet?: string;
  location?: string;
  tag?: string[];
  airtime: string[];
  blackout?: string[];
  pollInterval?: string;
  pushUrl?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `05:30-06:30` (or with an en dash) → { from, to }; anything else is refused naming the option. */
function parseWindow(option: string, text: string, t: Translate): { from: string; to: string } {
  const match = /^\s*(\d{2}:\d{2})\s*[-–]\s*(\d{2}:\d{2})\s*$/.exec(text);
  if (!match) throw new CliError(t('loudspeakers.add.badWindow', { option, value: text }), EXIT.invalidInput);
  return { from: match[1]!, to: match[2]! };
}

const windowsText = (windows: Array<{ from: string; to: string }>) => windows.map((window) => `${window.from}–${window.to}`).join(', ') || '—';

function printToken(result: { loudspeaker: LoudspeakerView; token: string }, t: Translate, key: 'loudspeakers.added' | 'loudspeakers.tokenIssued'): void {
  const { loudspeaker, token } = result;
  printLines([t(key, { id: loudspeaker.id, name: loudspeaker.name }), '', `  ${token}`, '', t('loudspeakers.tokenHint', { id: loudspeaker.id })]);
}

/** `loa loudspeakers add|list|token`: loudspeaker clusters in the device registry, through the API. */
export function register(program: Command, t: Translate): void {
  const loudspeakers = program.command('loudspeakers').description(t('loudspeakers.description'));

  loudspeakers
    .command('add')
    .description(t('loudspeakers.add.description'))
    .requiredOption('--id <id>', t('loudspeakers.add.id'))
    .requiredOption('--name <name>', t('loudspeakers.add.name'))
    .requiredOption('--commune <code>', t('loudspeakers.add.commune'))
    .requiredOption('--airtime <HH:MM-HH:MM>', t('loudspeakers.add.airtime'), collect)
    .option('--blackout <HH:MM-HH:MM>', t('loudspeakers.add.blackout'), collect)
    .option('--province <code>', t('loudspeakers.add.province'))
    .option('--hamlet <name>', t('loudspeakers.add.hamlet'))
    .option('--location <text>', t('loudspeakers.add.location'))
    .option('--tag <tag>', t('loudspeakers.add.tag'), collect)
    .option('--poll-interval <seconds>', t('loudspeakers.add.pollInterval'))
    .option('--push-url <url>', t('loudspeakers.add.pushUrl'))
    .option('--json', t('option.json'))
    .action(async (options: AddOptions) => {
      const { api, t: tr } = cliContext();
      const body = {
        id: options.id,
        name: options.name,
        commune: options.commune,
        airtime: options.airtime.map((text) => parseWindow('--airtime', text, tr)),
        ...(options.blackout ? { blackout: options.blackout.map((text) => parseWindow('--blackout', text, tr)) } : {}),
        ...(options.province ? { province: options.province } : {}),
        ...(options.hamlet ? { hamlet: options.hamlet } : {}),
        ...(options.location ? { location: options.location } : {}),
        ...(options.tag ? { tags: options.tag } : {}),
        ...(options.pollInterval ? { pollInterval: Number(options.pollInterval) } : {}),
        ...(options.pushUrl ? { pushUrl: options.pushUrl } : {}),
      };
      const result = await api.post<{ loudspeaker: LoudspeakerView; token: string }>('/v1/loudspeakers', { body });
      if (options.json) return printJson(result);
      printToken(result, tr, 'loudspeakers.added');
    });

  loudspeakers
    .command('list')
    .description(t('loudspeakers.list.description'))
    .option('--json', t('option.json'))
    .action(async (options: { json?: boolean }) => {
      const { api, t: tr, settings } = cliContext();
      const list = await api.get<LoudspeakerView[]>('/v1/loudspeakers');
      if (options.json) return printJson(list);
      if (list.length === 0) return printLines([tr('loudspeakers.none')]);
      printLines([
        ...list.map((speaker) =>
          tr('loudspeakers.line', {
            id: speaker.id,
            name: speaker.name,
            area: [speaker.province, speaker.commune, speaker.hamlet].filter(Boolean).join('/') || '—',
            airtime: windowsText(speaker.airtime),
            blackout: windowsText(speaker.blackout),
            status: tr(`screens.status.${speaker.status}`),
            seen: speaker.lastSeen ? formatTime(speaker.lastSeen, settings.language, tr) : '—',
          }),
        ),
        tr('time.zoneNote'),
      ]);
    });

  loudspeakers
    .command('token')
    .description(t('loudspeakers.token.description'))
    .argument('<id>', t('loudspeakers.add.id'))
    .option('--json', t('option.json'))
    .action(async (id: string, options: { json?: boolean }) => {
      const { api, t: tr } = cliContext();
      const result = await api.post<{ loudspeaker: LoudspeakerView; token: string }>(`/v1/loudspeakers/${encodeURIComponent(id)}/token`);
      if (options.json) return printJson(result);
      printToken(result, tr, 'loudspeakers.tokenIssued');
    });

  // What a cluster will say today and tomorrow, as its player receives it (the console shows the same).
  loudspeakers
    .command('schedule')
    .description(t('console.cli.loudspeakerSchedule.description'))
    .argument('<id>', t('loudspeakers.add.id'))
    .option('--json', t('option.json'))
    .action(async (id: string, options: { json?: boolean }) => {
      const { api, t: tr, settings } = cliContext();
      const schedule = await api.get<LoudspeakerSchedule>(`/v1/loudspeakers/${encodeURIComponent(id)}/schedule`);
      if (options.json) return printJson(schedule);
      if (schedule.slots.length === 0) return printLines([tr('console.cli.loudspeakerSchedule.none', { id })]);
      printLines([
        ...schedule.slots.map((slot) =>
          tr(slot.priority === 'urgent' ? 'console.cli.loudspeakerSchedule.urgentLine' : 'console.cli.loudspeakerSchedule.line', {
            at: formatTime(slot.start, settings.language, tr),
            seconds: Math.round(slot.duration),
            what: slot.text ?? slot.hash,
          }),
        ),
        ...schedule.unplaced.map((entry) => tr('console.cli.loudspeakerSchedule.unplaced', { day: entry.day, count: entry.count })),
        tr('time.zoneNote'),
      ]);
    });
}
