import type { Command } from 'commander';
import type { Translate } from '../../i18n/index.js';
import { CliError, EXIT } from '../exit-codes.js';
import { cliContext, formatEta, printJson, printLines } from '../output.js';

/** The answers of the console's routes (src/api/routes/console.ts, console-approvals.ts). */
interface Reach {
  recipients: number;
  segments: number;
  etaSeconds: number;
  optedOut: number;
  excluded: number;
  outsideArea: number;
  unroutableTotal: number;
  carriers: Array<{ carrier: string; sends: boolean; recipients: number; encoding: string; partsPerMessage: number; segments: number }>;
}

interface Approval {
  id: number;
  campaignId: string;
  recipients: number;
  requestedBy: string;
  approvedBy: string | null;
}

function parseId(value: string, t: Translate): number {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new CliError(t('console.cli.badId', { value }), EXIT.invalidInput);
  return Number(value);
}

/**
 * What the console does, from the command line too (through the API, LOA_URL + LOA_TOKEN):
 * `loa reach CAMPAIGN` (reach and cost over the stored lists) and `loa approvals` (the approval
 * rule for large launches).
 */
export function register(program: Command, t: Translate): void {
  program
    .command('reach')
    .description(t('console.cli.reach.description'))
    .argument('<campaign>', t('console.cli.reach.campaign'))
    .option('--json', t('option.json'))
    .action(async (campaign: string, options: { json?: boolean }) => {
      const { api, t } = cliContext();
      const reach = await api.post<Reach>(`/v1/campaigns/${encodeURIComponent(campaign)}/preview`);
      if (options.json) return printJson(reach);
      printLines([
        ...reach.carriers.filter((carrier) => carrier.sends).map((carrier) => t('console.cli.reach.carrier', { carrier: carrier.carrier, recipients: carrier.recipients, encoding: carrier.encoding, parts: carrier.partsPerMessage, segments: carrier.segments })),
        t('console.cli.reach.total', { recipients: reach.recipients, segments: reach.segments, eta: formatEta(reach.etaSeconds, t) }),
        t('console.cli.reach.excluded', { optedOut: reach.optedOut, excluded: reach.excluded, outside: reach.outsideArea, unroutable: reach.unroutableTotal }),
      ]);
    });

  const approvals = program.command('approvals').description(t('console.cli.approvals.description'));
  const line = (approval: Approval, tr: Translate) =>
    tr('console.cli.approvals.line', { id: approval.id, campaign: approval.campaignId, recipients: approval.recipients, by: approval.requestedBy, approved: approval.approvedBy ?? '—' });
  approvals
    .command('list')
    .description(t('console.cli.approvals.list'))
    .option('--json', t('option.json'))
    .action(async (options: { json?: boolean }) => {
      const { api, t } = cliContext();
      const list = await api.get<Approval[]>('/v1/approvals');
      if (options.json) return printJson(list);
      printLines(list.length === 0 ? [t('console.cli.approvals.none')] : list.map((approval) => line(approval, t)));
    });
  approvals
    .command('request')
    .description(t('console.cli.approvals.request'))
    .argument('<campaign>', t('console.cli.reach.campaign'))
    .option('--json', t('option.json'))
    .action(async (campaign: string, options: { json?: boolean }) => {
      const { api, t } = cliContext();
      const approval = await api.post<Approval>(`/v1/campaigns/${encodeURIComponent(campaign)}/approvals`);
      if (options.json) return printJson(approval);
      printLines([line(approval, t)]);
    });
  approvals
    .command('approve')
    .description(t('console.cli.approvals.approve'))
    .argument('<id>', t('console.cli.approvals.id'))
    .option('--json', t('option.json'))
    .action(async (value: string, options: { json?: boolean }) => {
      const { api, t } = cliContext();
      const approval = await api.post<Approval>(`/v1/approvals/${parseId(value, t)}/approve`);
      if (options.json) return printJson(approval);
      printLines([line(approval, t)]);
    });
}
