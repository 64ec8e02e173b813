/// <reference lib="dom" />
import { validateCampaign } from '../../domain/campaign.js';
import { nextOccurrences } from '../../domain/schedule.js';
import { api, can, describeError } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import type { Approval } from './editor.js';
import { formatNumber, formatTime, t, tOr } from '../i18n.js';

export interface CampaignView {
  id: string;
  name: string;
  archived: boolean;
  latestVersion: { id: number; contentHash: string; createdAt: string; createdBy: string; document: Record<string, unknown> } | null;
}

export interface RunView {
  id: number;
  campaignId: string;
  state: string;
  priority: string;
  audienceSize: number | null;
  scheduledFor: string;
  startedAt: string | null;
  finishedAt: string | null;
  launchedBy: string;
  testList: string | null;
}

/** When the schedule fires next (the domain's own expansion, run in the browser), or null. */
function nextOccurrence(document: Record<string, unknown> | undefined): Date | null {
  if (!document) return null;
  try {
    const campaign = validateCampaign(document);
    return campaign.schedule ? (nextOccurrences(campaign, new Date(), 1)[0]?.launchAt ?? null) : null;
  } catch {
    return null;
  }
}

export function runState(state: string): HTMLElement {
  return h('span', { class: 'state', 'data-state': state }, tOr(`state.${state}`, state));
}

/** Launch approvals not used yet: another operator approves here; the requester then launches from the editor. */
async function approvalsBox(): Promise<HTMLElement> {
  const box = h('section', { 'aria-labelledby': 'approvals-title' });
  const render = async (): Promise<void> => {
    const approvals = await api<Approval[]>('GET', '/v1/approvals');
    if (approvals.length === 0) return replaceChildren(box);
    replaceChildren(
      box,
      h('h2', { id: 'approvals-title' }, t('console.approval.title')),
      h(
        'table',
        { id: 'approvals' },
        h('thead', {}, h('tr', {}, ...(['campaign', 'recipients', 'requestedBy', 'approvedBy'] as const).map((column) => h('th', { scope: 'col' }, t(`console.approval.column.${column}`))), h('th', { scope: 'col' }, ''))),
        h(
          'tbody',
          {},
          approvals.map((approval) =>
            h(
              'tr',
              { 'data-approval': approval.id },
              h('td', {}, h('a', { href: `#/campaigns/${approval.campaignId}` }, approval.campaignId)),
              h('td', { class: 'num' }, formatNumber(approval.recipients)),
              h('td', {}, approval.requestedBy, h('div', { class: 'muted' }, formatTime(approval.requestedAt))),
              h('td', {}, approval.approvedBy ?? '—'),
              h(
                'td',
                {},
                approval.approvedBy === null && can('operator')
                  ? h('button', { type: 'button', 'data-approve': approval.id, onclick: () => void api('POST', `/v1/approvals/${approval.id}/approve`).then(render, (error: unknown) => box.append(h('p', { class: 'error', role: 'alert' }, describeError(error)))) }, t('console.approval.approve'))
                  : '',
              ),
            ),
          ),
        ),
      ),
    );
  };
  await render();
  return box;
}

export async function campaignsPage(main: HTMLElement): Promise<void> {
  const [campaigns, runs, approvals] = await Promise.all([api<CampaignView[]>('GET', '/v1/campaigns'), api<RunView[]>('GET', '/v1/runs?limit=500'), approvalsBox()]);
  const lastRun = new Map<string, RunView>();
  for (const run of runs) if (!lastRun.has(run.campaignId)) lastRun.set(run.campaignId, run);
  main.append(
    h('h1', {}, t('console.campaigns.title')),
    h('div', { class: 'actions' }, can('operator') ? h('a', { href: '#/campaigns/new', id: 'new-campaign' }, t('console.campaigns.new')) : null),
    approvals,
    campaigns.length === 0
      ? h('p', {}, t('console.campaigns.none'))
      : h(
          'table',
          {},
          h('caption', { class: 'muted' }, t('console.timeZoneNote')),
          h('thead', {}, h('tr', {}, ...['name', 'priority', 'version', 'lastRun', 'next'].map((column) => h('th', { scope: 'col' }, t(`console.campaigns.column.${column}` as 'console.campaigns.column.name'))))),
          h(
            'tbody',
            {},
            campaigns.map((campaign) => {
              const run = lastRun.get(campaign.id);
              const document = campaign.latestVersion?.document;
              return h(
                'tr',
                { 'data-campaign': campaign.id },
                h('td', {}, h('a', { href: `#/campaigns/${campaign.id}` }, campaign.name), h('div', { class: 'muted' }, campaign.id)),
                h('td', {}, tOr(`console.priority.${String(document?.priority ?? 'normal')}`, String(document?.priority ?? ''))),
                h('td', {}, formatTime(campaign.latestVersion?.createdAt)),
                h('td', {}, run ? [h('a', { href: `#/runs/${run.id}` }, `#${run.id} `), runState(run.state)] : '—'),
                h('td', {}, formatTime(nextOccurrence(document))),
              );
            }),
          ),
        ),
  );
}
