import { Option, type Command } from 'commander';
import type { Translate } from '../../i18n/index.js';
import type { RunView } from '../../services/runs.service.js';
import { RUN_STATES } from '../../store/database.js';
import { cliContext, formatTime, printJson, printLines, stateLabel } from '../output.js';

export function register(program: Command, t: Translate): void {
  program
    .command('runs')
    .description(t('runs.description'))
    .addOption(new Option('--state <state>', t('runs.stateOption')).choices(RUN_STATES))
    .option('--campaign <id>', t('runs.campaignOption'))
    .option('--limit <n>', t('runs.limitOption'), '50')
    .option('--json', t('runs.jsonOption'))
    .action(async (options: { state?: string; campaign?: string; limit: string; json?: boolean }) => {
      const { api, t, settings } = cliContext();
      const runs = await api.get<RunView[]>('/v1/runs', { query: { state: options.state, campaign: options.campaign, limit: options.limit } });
      if (options.json) return printJson(runs);
      if (runs.length === 0) return printLines([t('runs.none')]);
      printLines([
        ...runs.map((run) =>
          t('runs.line', {
            run: run.id,
            state: stateLabel(run.state, t),
            campaign: run.campaignId,
            scheduled: formatTime(run.scheduledFor, settings.language, t),
            test: run.testList ? t('runs.testSuffix', { list: run.testList }) : '',
          }),
        ),
        t('time.zoneNote'),
      ]);
    });
}
