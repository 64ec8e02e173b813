import type { Command } from 'commander';
import type { MessageKey, Translate } from '../../i18n/index.js';
import { cliContext, printJson, printLines } from '../output.js';
import { parseRunId } from './status.js';

/** The answer of POST /v1/runs/:id/pause|resume|cancel. */
interface RunControlAnswer {
  id: number;
  state: string;
  pausedReason: string | null;
  error: string | null;
}

const ACTIONS = [
  { name: 'pause', description: 'control.pause.description', done: 'control.paused' },
  { name: 'resume', description: 'control.resume.description', done: 'control.resumed' },
  { name: 'cancel', description: 'control.cancel.description', done: 'control.cancelled' },
] as const satisfies ReadonlyArray<{ name: string; description: MessageKey; done: MessageKey }>;

/** `loa pause|resume|cancel RUN [--json]`: through the API, so the audit log names the key. */
export function register(program: Command, t: Translate): void {
  for (const action of ACTIONS) {
    program
      .command(action.name)
      .description(t(action.description))
      .argument('<run>', t('control.run'))
      .option('--json', t('option.json'))
      .action(async (value: string, options: { json?: boolean }) => {
        const { api, t: tr } = cliContext();
        const runId = parseRunId(value, tr);
        const answer = await api.post<RunControlAnswer>(`/v1/runs/${runId}/${action.name}`);
        if (options.json) printJson(answer);
        else printLines([tr(action.done, { run: answer.id })]);
      });
  }
}
