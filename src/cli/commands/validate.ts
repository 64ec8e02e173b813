import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CARRIER_PROFILES } from '../../../adapters/carriers/index.js';
import { campaignOperators, CampaignValidationError, contentHash, parseCampaign, type Campaign, type CampaignIssue } from '../../domain/campaign.js';
import { encodeMessage } from '../../domain/encoding.js';
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

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a campaign file (YAML or JSON) against campaigns/campaign.schema.json and the rules beyond it')
    .argument('<file>', 'campaign file')
    .action(async (file: string) => {
      const campaign = await loadCampaignFile(file);
      if (campaign) process.stdout.write(summary(file, campaign));
    });
}
