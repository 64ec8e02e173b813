import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { CampaignValidationError, parseCampaign, type Campaign } from '../../domain/campaign.js';
import type { CarrierId } from '../../domain/carrier.js';
import type { Language, Translate } from '../../i18n/index.js';
import type { RunStatus } from '../../jobs/engine-contract.js';
import { APPROVAL_HEADER } from '../../api/routes/console-approvals.js';
import type { SavedCampaign } from '../../services/campaigns.service.js';
import type { LaunchResult } from '../../services/launch.service.js';
import type { ApiClient } from '../api-client.js';
import { CliError, EXIT } from '../exit-codes.js';
import { carrierFigures, cliContext, FAILED_RUN_STATES, FINAL_RUN_STATES, formatEta, formatTime, printJson, printLines, stateLabel } from '../output.js';
import { describeStatus } from './status.js';
import { formatIssue } from './validate.js';

interface LaunchOptions {
  wait?: boolean;
  now?: boolean;
  test?: string;
  approval?: string;
  json?: boolean;
  interval: string;
}

/** Read and check the file here first: its problems come back as FILE:line:column without a round trip. */
async function readCampaignFile(file: string, t: Translate, json: boolean): Promise<{ text: string; campaign: Campaign }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(t('error.fileUnreadable', { file, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message }), EXIT.invalidInput);
  }
  try {
    return { text, campaign: parseCampaign(text) };
  } catch (error) {
    if (!(error instanceof CampaignValidationError)) throw error;
    if (!json) for (const issue of error.issues) process.stderr.write(`${formatIssue(file, issue)}\n`);
    throw new CliError(t('launch.invalid', { file, count: error.issues.length }), EXIT.invalidInput, { issues: error.issues });
  }
}

function describeLaunch(saved: SavedCampaign, launched: LaunchResult, language: Language, t: Translate): string[] {
  const time = (iso: string) => formatTime(iso, language, t);
  const version = { id: saved.campaign.id, version: saved.version.id, hash: saved.version.contentHash.slice(0, 12) };
  const lines = [saved.versionCreated ? t('launch.saved', version) : t('launch.unchanged', version), t('launch.launched', { id: saved.campaign.id, run: launched.run.id })];
  if (launched.run.testList) lines.push(t('launch.test', { list: launched.run.testList }));
  const quiet = launched.quietHours;
  if (quiet && launched.deferred) lines.push(t('launch.deferred', { from: quiet.from, to: quiet.to, zone: quiet.timeZone, at: time(launched.run.scheduledFor) }));
  if (quiet && launched.quietHoursOverridden) lines.push(t('launch.overridden', { from: quiet.from, to: quiet.to, zone: quiet.timeZone }));
  lines.push(t('launch.startsAt', { at: time(launched.run.scheduledFor), expires: launched.run.expiresAt ? time(launched.run.expiresAt) : t('time.none') }));
  lines.push(t('time.zoneNote'));
  return lines;
}

/** Progress on a terminal: one bar per carrier, redrawn in place. */
class ProgressBars {
  readonly #multibar: cliProgress.MultiBar;
  readonly #bars = new Map<CarrierId, cliProgress.SingleBar>();

  constructor(private readonly t: Translate) {
    this.#multibar = new cliProgress.MultiBar({ format: t('wait.bar'), hideCursor: true, clearOnComplete: false, stopOnComplete: false, autopadding: true }, cliProgress.Presets.shades_classic);
  }

  update(status: RunStatus): void {
    for (const carrier of status.carriers) {
      const { sent, delivered, failed } = carrierFigures(carrier);
      const payload = { carrier: carrier.carrier.padEnd(8), delivered, failed, rate: Math.round(carrier.submitRate), eta_text: formatEta(carrier.etaSeconds, this.t) };
      const bar = this.#bars.get(carrier.carrier);
      if (bar) {
        bar.setTotal(Math.max(carrier.total, 1));
        bar.update(sent, payload);
      } else {
        this.#bars.set(carrier.carrier, this.#multibar.create(Math.max(carrier.total, 1), sent, payload));
      }
    }
  }

  stop(): void {
    this.#multibar.stop();
  }
}

/** Without a terminal (a log, CI): a line per carrier now and then. */
const PLAIN_EVERY_MS = 5000;

/**
 * Polls GET /v1/runs/:id until the run ends. A TTY gets bars; otherwise plain lines every few
 * seconds and whenever the state changes; --json prints nothing until the final document.
 */
async function waitForRun(api: ApiClient, runId: number, options: { intervalMs: number; mode: 'bars' | 'lines' | 'silent'; language: Language; t: Translate }): Promise<RunStatus> {
  const { t } = options;
  const bars = options.mode === 'bars' ? new ProgressBars(t) : undefined;
  let lastState: string | undefined;
  let lastPrinted = 0;
  try {
    for (;;) {
      const status = await api.get<RunStatus>(`/v1/runs/${runId}`);
      if (bars) bars.update(status);
      if (options.mode === 'lines' && (status.state !== lastState || Date.now() - lastPrinted >= PLAIN_EVERY_MS)) {
        const lines = [t('wait.state', { run: runId, state: stateLabel(status.state, t) })];
        for (const carrier of status.carriers) {
          const { sent, delivered, failed } = carrierFigures(carrier);
          lines.push(`  ${t('status.carrier', { carrier: carrier.carrier, sent, total: carrier.total, delivered, failed, rate: Math.round(carrier.submitRate), eta: formatEta(carrier.etaSeconds, t) })}`);
        }
        printLines(lines);
        lastPrinted = Date.now();
      }
      lastState = status.state;
      if (FINAL_RUN_STATES.has(status.state)) return status;
      await delay(options.intervalMs);
    }
  } finally {
    bars?.stop();
  }
}

async function launch(file: string, options: LaunchOptions): Promise<void> {
  const { api, t, settings } = cliContext();
  const json = options.json === true;
  // An approval another operator granted (loa approvals approve): checked before anything is stored.
  if (options.approval !== undefined && !/^[1-9]\d{0,14}$/.test(options.approval)) throw new CliError(t('console.cli.badId', { value: options.approval }), EXIT.invalidInput);
  const { text, campaign } = await readCampaignFile(file, t, json);
  // The file as written (JSON is YAML): any problem the service finds points at its line:column.
  const saved = await api.put<SavedCampaign>(`/v1/campaigns/${encodeURIComponent(campaign.id)}`, { body: text, contentType: 'application/yaml' });
  const launched = await api.post<LaunchResult>(`/v1/campaigns/${encodeURIComponent(campaign.id)}/launch`, {
    // One key per invocation: a request the client retries cannot launch the campaign twice.
    headers: { 'idempotency-key': randomUUID(), ...(options.approval !== undefined ? { [APPROVAL_HEADER]: options.approval } : {}) },
    body: { versionId: saved.version.id, ...(options.now ? { now: true } : {}), ...(options.test !== undefined ? { test: options.test } : {}) },
  });
  const summary = { campaign: { id: saved.campaign.id, versionId: saved.version.id, contentHash: saved.version.contentHash, versionCreated: saved.versionCreated }, ...launched, runId: launched.run.id };
  if (!options.wait) {
    if (json) return printJson(summary);
    return printLines([...describeLaunch(saved, launched, settings.language, t), t('launch.followHint', { run: launched.run.id })]);
  }
  if (!json) printLines(describeLaunch(saved, launched, settings.language, t));
  const intervalMs = Math.max(100, Number(options.interval) || 1000);
  const mode = json ? 'silent' : process.stdout.isTTY ? 'bars' : 'lines';
  const status = await waitForRun(api, launched.run.id, { intervalMs, mode, language: settings.language, t });
  if (json) printJson({ ...summary, status });
  else printLines([t('wait.done', { run: launched.run.id, state: stateLabel(status.state, t) }), ...describeStatus(status, settings.language, t)]);
  if (FAILED_RUN_STATES.has(status.state)) process.exitCode = EXIT.runFailed;
}

export function register(program: Command, t: Translate): void {
  program
    .command('launch')
    .description(t('launch.description'))
    .argument('<file>', t('launch.fileArgument'))
    .option('--wait', t('launch.waitOption'))
    .option('--now', t('launch.nowOption'))
    .option('--test <list>', t('launch.testOption'))
    .option('--approval <id>', t('console.cli.launchApproval'))
    .option('--json', t('launch.jsonOption'))
    .option('--interval <ms>', t('launch.intervalOption'), '1000')
    .action(launch);
}
