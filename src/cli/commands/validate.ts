import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CARRIER_PROFILES } from '../../../adapters/carriers/index.js';
import { campaignOperators, CampaignValidationError, contentHash, parseCampaign, type Campaign, type CampaignIssue } from '../../domain/campaign.js';
import { encodeMessage } from '../../domain/encoding.js';
import { DomainError } from '../../domain/errors.js';
import { expandOccurrences } from '../../domain/schedule.js';

/** `FILE:line:column: path: message`, the shape editors and CI annotate. */
export function formatIssue(file: string, issue: CampaignIssue): string {
  const where = issue.line !== undefined ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
  return `${where}: ${issue.path || '(document)'}: ${issue.message}`;
}

/** Read and parse a campaign file; on failure print every issue and return null (exit code 1 is set). */
export async function loadCampaignFile(file: string): Promise<Campaign | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    process.stderr.write(`${file}: cannot read: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return null;
  }
  try {
    return parseCampaign(text);
  } catch (error) {
    if (!(error instanceof CampaignValidationError)) throw error;
    for (const issue of error.issues) process.stderr.write(`${formatIssue(file, issue)}\n`);
    process.stderr.write(`${file}: ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}\n`);
    process.exitCode = 1;
    return null;
  }
}

function summary(file: string, campaign: Campaign): string {
  const lines = [`${file}: valid`, `  id:        ${campaign.id}`, `  name:      ${campaign.name}`, `  version:   sha256:${contentHash(campaign)}`, `  priority:  ${campaign.priority}`];
  lines.push(`  audience:  lists ${campaign.audience.lists.join(', ')}`);
  const { province, commune } = campaign.audience.areas;
  if (province.length > 0) lines.push(`             provinces ${province.join(', ')}`);
  if (commune.length > 0) lines.push(`             communes ${commune.join(', ')}`);
  if (campaign.audience.exclude.length > 0) lines.push(`             minus ${campaign.audience.exclude.join(', ')}`);
  lines.push('  sms:');
  for (const carrier of campaignOperators(campaign)) {
    const profile = CARRIER_PROFILES[carrier];
    const encoded = encodeMessage(campaign.message.text, { policy: campaign.message.encoding, ucs2Allowed: profile.ucs2WithBrandname, reference: 0 });
    const parts = `${encoded.parts.length} part${encoded.parts.length === 1 ? '' : 's'}`;
    const throttle = campaign.throttle[carrier] !== undefined ? `, ${campaign.throttle[carrier]} segments/s` : '';
    lines.push(`    ${carrier.padEnd(9)} from ${campaign.message.sender[carrier] ?? '?'}: ${encoded.encoding === 'gsm7' ? 'GSM' : 'UCS-2'}, ${parts}${encoded.stripped ? ', without diacritics' : ''}${throttle}`);
  }
  lines.push(`  validity:  ${campaign.validity}`);
  const schedule = campaign.schedule;
  if (!schedule) {
    lines.push('  schedule:  none (launched by hand)');
  } else {
    const quiet = campaign.priority === 'urgent' ? 'ignored (urgent)' : schedule.quietHours ? `${schedule.quietHours.from}–${schedule.quietHours.to}` : 'none';
    lines.push(`  schedule:  ${schedule.start}${schedule.rrule ? `, ${schedule.rrule}` : ''}${schedule.end ? ` until ${schedule.end}` : ''} (${schedule.timezone}), quiet hours ${quiet}`);
    const occurrences = expandOccurrences(campaign, { from: new Date(0), to: new Date(Date.UTC(2200, 0, 1)), limit: 1001 });
    const shown = occurrences.slice(0, 3).map((o) => `${o.launchAt.toISOString()}${o.deferred ? ' (deferred by quiet hours)' : ''}`);
    lines.push(`  occurrences: ${occurrences.length > 1000 ? 'more than 1000' : occurrences.length}; first ${shown.join(', ')}`);
    const collapsed = occurrences.slice(0, 1000).reduce((n, o) => n + o.skipped.length, 0);
    if (collapsed > 0) {
      lines.push(`  skipped:   ${collapsed} occurrence${collapsed === 1 ? '' : 's'} in quiet hours folded into the run at the end of the quiet window (one run per launch time)`);
    }
  }
  if (campaign.screens.length > 0) {
    lines.push(`  screens:   ${campaign.screens.length} item${campaign.screens.length === 1 ? '' : 's'}`);
    for (const item of campaign.screens) {
      const targets = Object.entries(item.targets)
        .map(([key, values]) => `${key} ${(values as string[]).join(',')}`)
        .join('; ');
      lines.push(`    ${targets}: ${Object.keys(item.text).join('+')}, ${item.duration}s`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Validate each file and print its summary or its problems; one bad file does not stop the
 * others. Returns whether all were valid (the command exits 1 otherwise).
 */
export async function validateFiles(files: readonly string[]): Promise<boolean> {
  let valid = 0;
  for (const file of files) {
    const campaign = await loadCampaignFile(file);
    if (!campaign) continue;
    try {
      process.stdout.write(summary(file, campaign));
      valid++;
    } catch (error) {
      // A rule beyond the schema that only encoding or expansion notices (e.g. text of combining marks only).
      if (!(error instanceof DomainError)) throw error;
      process.stderr.write(`${file}: ${error.message}\n`);
    }
  }
  if (files.length > 1) process.stdout.write(`${valid} of ${files.length} files valid\n`);
  if (valid < files.length) process.exitCode = 1;
  return valid === files.length;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check campaign files (YAML or JSON) against campaigns/campaign.schema.json and the rules beyond it')
    .argument('<files...>', 'campaign files, e.g. campaigns/*.yaml')
    .action(async (files: string[]) => {
      await validateFiles(files);
    });
}
