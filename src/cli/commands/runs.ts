import { Option, type Command } from 'commander';
import type { RunView } from '../../services/runs.service.js';
import { RUN_STATES } from '../../store/database.js';
import { cliContext, formatTime, printJson, printLines, stateLabel } from '../output.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description('runs, newest first')
    .addOption(new Option('--state <state>', 'only runs in this state').choices(RUN_STATES))
    .option('--campaign <id>', 'only runs of this campaign')
    .option('--limit <n>', 'at most this many (1–500)', '50')
    .option('--json', 'print one JSON document (GET /v1/runs)')
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
