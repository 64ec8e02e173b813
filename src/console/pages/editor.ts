/// <reference lib="dom" />
import { parseDocument, stringify } from 'yaml';
import { CARRIER_PROFILES } from '../../../adapters/carriers/index.js';
import { campaignWarnings, DEFAULT_MAX_PARTS } from '../../domain/campaign-warnings.js';
import { campaignOperators, CampaignValidationError, parseCampaign, type Campaign } from '../../domain/campaign.js';
import { CARRIER_IDS, type CarrierId } from '../../domain/carrier.js';
import { encodeMessage, EncodingError, GSM7_PART, GSM7_SINGLE, UCS2_PART, UCS2_SINGLE } from '../../domain/encoding.js';
import { api, ApiError, can, describeError } from '../api.js';
import { ask, h, replaceChildren } from '../dom.js';
import { listenControl } from '../listen.js';
import { formatDuration, formatNumber, formatTime, t, tOr } from '../i18n.js';
import type { CampaignView } from './campaigns.js';

const NEW_CAMPAIGN = `id: thong-bao-moi
name: "Thông báo mới"
priority: normal
message:
  text: "Sở TTTT thông báo: "
  encoding: auto
  sender:
    viettel: STTTT
    vnpt: STTTT
    mobifone: STTTT
audience:
  lists: []
operators: [viettel, vnpt, mobifone]
throttle: { viettel: 100, vnpt: 100, mobifone: 100 }
validity: PT24H
`;

const UCS2_ALLOWED = Object.fromEntries(CARRIER_IDS.map((id) => [id, CARRIER_PROFILES[id].ucs2WithBrandname])) as Record<CarrierId, boolean>;

export interface Approval {
  id: number;
  campaignId: string;
  recipients: number;
  requestedBy: string;
  requestedAt: string;
  approvedBy: string | null;
}

interface ReachReport {
  recipients: number;
  segments: number;
  etaSeconds: number;
  optedOut: number;
  excluded: number;
  outsideArea: number;
  invalidTotal: number;
  unroutableTotal: number;
  carriers: Array<{ carrier: CarrierId; sends: boolean; recipients: number; encoding: string; partsPerMessage: number; segments: number; tps: number; etaSeconds: number; stripped: boolean }>;
}

/** Per carrier: what the officer's text becomes (the same encodeMessage the engine sends with). */
function carrierTable(campaign: Campaign): HTMLElement {
  const rows = campaignOperators(campaign).map((carrier) => {
    const sender = campaign.message.sender[carrier] ?? '';
    try {
      const encoded = encodeMessage(campaign.message.text, { policy: campaign.message.encoding, ucs2Allowed: UCS2_ALLOWED[carrier], reference: 0 });
      const last = encoded.parts[encoded.parts.length - 1]!;
      const udh = last.udh?.length ?? 0;
      const ucs2 = encoded.encoding === 'ucs2';
      const used = ucs2 ? (last.shortMessage.length - udh) / 2 : last.shortMessage.length - udh;
      const room = encoded.parts.length > 1 ? (ucs2 ? UCS2_PART : GSM7_PART) : ucs2 ? UCS2_SINGLE : GSM7_SINGLE;
      return h(
        'tr',
        { 'data-carrier': carrier },
        h('th', { scope: 'row' }, CARRIER_PROFILES[carrier].name, h('div', { class: 'muted' }, sender)),
        h('td', { 'data-field': 'encoding' }, encoded.encoding === 'ucs2' ? 'UCS-2' : 'GSM 7-bit'),
        h('td', { class: 'num', 'data-field': 'parts' }, formatNumber(encoded.parts.length)),
        h('td', { class: 'num', 'data-field': 'left' }, formatNumber(room - used)),
        h('td', { 'data-field': 'text' }, encoded.stripped ? h('span', { class: 'warn' }, encoded.text) : h('span', { class: 'muted' }, t('console.editor.asWritten')), encoded.replaced.length > 0 ? h('div', { class: 'error' }, t('console.editor.replaced', { characters: encoded.replaced.join(' ') })) : null),
      );
    } catch (error) {
      return h('tr', {}, h('th', { scope: 'row' }, CARRIER_PROFILES[carrier].name), h('td', { colspan: '4', class: 'error' }, error instanceof EncodingError ? tOr(`encoding.${error.problem}`, error.message, error.params) : String(error)));
    }
  });
  return h(
    'table',
    { id: 'carrier-view' },
    h('caption', {}, t('console.editor.perCarrier')),
    h('thead', {}, h('tr', {}, ...(['carrier', 'encoding', 'parts', 'left', 'receives'] as const).map((column) => h('th', { scope: 'col' }, t(`console.editor.column.${column}`))))),
    h('tbody', {}, rows),
  );
}

function warningList(campaign: Campaign): HTMLElement | null {
  const warnings = campaignWarnings(campaign, { now: new Date(), maxParts: DEFAULT_MAX_PARTS, ucs2Allowed: UCS2_ALLOWED }).map((warning) => {
    if (warning.kind === 'all-occurrences-past') return t('validate.warnPast', { last: formatTime(warning.last) });
    if (warning.kind === 'unsendable-characters') return t('validate.warnCharacters', { carrier: warning.carrier, sender: campaign.message.sender[warning.carrier] ?? '', characters: warning.characters.join(' ') });
    return t('validate.warnParts', { parts: warning.parts, carrier: warning.carrier, max: warning.maxParts });
  });
  const quiet = campaign.schedule?.quietHours;
  if (quiet) warnings.push(t('console.editor.quietHours', { from: quiet.from, to: quiet.to }));
  if (campaign.priority === 'urgent') warnings.push(t('console.editor.urgent'));
  return warnings.length === 0 ? null : h('ul', { class: 'warn', id: 'warnings' }, warnings.map((warning) => h('li', {}, warning)));
}

/** Each loudspeaker item read out (`text`): listen to it as the loudspeakers will say it, before launch. */
function loudspeakerItems(campaign: Campaign): HTMLElement | null {
  const spoken = (campaign.loudspeakers ?? []).filter((item): item is typeof item & { text: string } => typeof item.text === 'string');
  if (spoken.length === 0 || !can('operator')) return null;
  return h('div', { id: 'loudspeaker-items' }, h('h2', {}, t('console.listen.items')), spoken.map((item, index) => h('div', { class: 'card' }, h('p', {}, item.text), listenControl(() => item.text, t('console.listen.item', { n: index + 1 }), item.voice))));
}

function issueList(error: CampaignValidationError): HTMLElement {
  return h(
    'ul',
    { class: 'error', id: 'issues' },
    error.issues.map((issue) => h('li', {}, `${issue.line !== undefined ? `${issue.line}:${issue.column ?? 1} ` : ''}${issue.path || '(document)'}: ${issue.key ? tOr(`campaign.${issue.key}`, issue.message, issue.params) : issue.message}`)),
  );
}

function reachTable(report: ReachReport): HTMLElement {
  return h(
    'div',
    { id: 'reach' },
    h(
      'table',
      {},
      h('caption', {}, t('console.preview.title')),
      h('thead', {}, h('tr', {}, ...(['carrier', 'recipients', 'encoding', 'parts', 'segments', 'tps', 'eta'] as const).map((column) => h('th', { scope: 'col' }, t(`preview.column.${column}`))))),
      h(
        'tbody',
        {},
        report.carriers
          .filter((carrier) => carrier.sends)
          .map((carrier) =>
            h(
              'tr',
              { 'data-carrier': carrier.carrier },
              h('th', { scope: 'row' }, CARRIER_PROFILES[carrier.carrier].name),
              h('td', { class: 'num' }, formatNumber(carrier.recipients)),
              h('td', {}, carrier.encoding === 'ucs2' ? 'UCS-2' : 'GSM 7-bit'),
              h('td', { class: 'num' }, formatNumber(carrier.partsPerMessage)),
              h('td', { class: 'num' }, formatNumber(carrier.segments)),
              h('td', { class: 'num' }, formatNumber(carrier.tps)),
              h('td', {}, formatDuration(carrier.etaSeconds)),
            ),
          ),
      ),
    ),
    h(
      'p',
      { id: 'reach-total' },
      t('console.preview.total', { recipients: formatNumber(report.recipients), segments: formatNumber(report.segments), eta: formatDuration(report.etaSeconds) }),
    ),
    h('p', { class: 'muted' }, t('console.preview.excluded', { optedOut: formatNumber(report.optedOut), excluded: formatNumber(report.excluded), outside: formatNumber(report.outsideArea), invalid: formatNumber(report.invalidTotal), unroutable: formatNumber(report.unroutableTotal) })),
  );
}

/** Launch after a confirmation that states the numbers; an urgent campaign needs a second, explicit one. */
async function confirmLaunch(campaign: Campaign, report: ReachReport): Promise<boolean> {
  const numbers = t('console.launch.numbers', { recipients: formatNumber(report.recipients), segments: formatNumber(report.segments), eta: formatDuration(report.etaSeconds) });
  const first = await ask(t('console.launch.confirmTitle', { name: campaign.name }), [h('p', { id: 'launch-numbers' }, numbers)], [
    { label: t('console.cancel'), value: 'cancel', kind: 'secondary' },
    { label: t('console.launch.confirm'), value: 'launch' },
  ]);
  if (first !== 'launch') return false;
  if (campaign.priority !== 'urgent') return true;
  const second = await ask(t('console.launch.urgentTitle'), [h('p', {}, t('console.launch.urgentText', { recipients: formatNumber(report.recipients) }))], [
    { label: t('console.cancel'), value: 'cancel', kind: 'secondary' },
    { label: t('console.launch.urgentConfirm'), value: 'urgent', kind: 'danger' },
  ]);
  return second === 'urgent';
}

export async function editorPage(main: HTMLElement, params: string[]): Promise<void> {
  const id = params[0];
  let text = NEW_CAMPAIGN;
  if (id) {
    const view = await api<CampaignView>('GET', `/v1/campaigns/${id}`);
    if (view.latestVersion) text = stringify(view.latestVersion.document, { lineWidth: 0 });
  }
  const editable = can('operator');
  const messageField = h('textarea', { id: 'message-text', rows: '5', disabled: !editable, 'aria-describedby': 'carrier-help' });
  const yamlField = h('textarea', { id: 'campaign-yaml', class: 'yaml', rows: '22', spellcheck: 'false', disabled: !editable, value: text });
  const analysis = h('div', { id: 'analysis', 'aria-live': 'polite' });
  const status = h('p', { role: 'status', id: 'editor-status' });
  const reachBox = h('div', {});
  let campaign: Campaign | undefined;
  let report: ReachReport | undefined;

  const analyse = (): void => {
    report = undefined;
    replaceChildren(reachBox);
    try {
      campaign = parseCampaign(yamlField.value);
      replaceChildren(analysis, carrierTable(campaign), warningList(campaign), loudspeakerItems(campaign));
    } catch (error) {
      campaign = undefined;
      replaceChildren(analysis, error instanceof CampaignValidationError ? issueList(error) : h('p', { class: 'error' }, String((error as Error).message)));
    }
    updateButtons();
  };
  const messageFromYaml = (): void => {
    const value = parseDocument(yamlField.value).getIn(['message', 'text']);
    if (typeof value === 'string' && value !== messageField.value) messageField.value = value;
  };
  messageField.addEventListener('input', () => {
    const document = parseDocument(yamlField.value);
    if (document.errors.length === 0) {
      document.setIn(['message', 'text'], messageField.value);
      yamlField.value = document.toString({ lineWidth: 0 });
    }
    analyse();
  });
  yamlField.addEventListener('input', () => {
    messageFromYaml();
    analyse();
  });

  const save = async (): Promise<string> => {
    if (!campaign) throw new Error(t('console.editor.fixFirst'));
    await api('PUT', `/v1/campaigns/${campaign.id}`, yamlField.value, 'application/yaml');
    return campaign.id;
  };
  const run = (work: () => Promise<void>) => async () => {
    status.textContent = t('console.working');
    status.className = '';
    try {
      await work();
    } catch (error) {
      status.textContent = error instanceof ApiError && error.details.length > 0 ? `${describeError(error)}: ${error.details.map((d) => `${d.line ? `${d.line}:${d.column ?? 1} ` : ''}${d.path} ${d.message}`).join('; ')}` : describeError(error);
      status.className = 'error';
    }
  };
  const saveButton = h('button', { type: 'button', id: 'save', onclick: run(async () => {
    const savedId = await save();
    status.textContent = t('console.editor.saved', { id: savedId });
    if (location.hash !== `#/campaigns/${savedId}`) history.replaceState(null, '', `#/campaigns/${savedId}`);
  }) }, t('console.editor.save'));
  const previewButton = h('button', { type: 'button', id: 'preview', class: 'secondary', onclick: run(async () => {
    const savedId = editable ? await save() : campaign!.id;
    report = await api<ReachReport>('POST', `/v1/campaigns/${savedId}/preview`);
    replaceChildren(reachBox, reachTable(report));
    status.textContent = '';
    updateButtons();
  }) }, t('console.editor.preview'));
  const nowBox = h('input', { type: 'checkbox', id: 'launch-now' });
  const launchButton = h('button', { type: 'button', id: 'launch', onclick: run(async () => {
    if (!campaign || !report) return;
    if (!(await confirmLaunch(campaign, report))) {
      status.textContent = t('console.launch.cancelled');
      return;
    }
    // An approval another person gave for this campaign, if any (the approval rule for large launches).
    const approved = (await api<Approval[]>('GET', '/v1/approvals')).find((approval) => approval.campaignId === campaign!.id && approval.approvedBy !== null);
    const headers: Record<string, string> = { 'idempotency-key': crypto.randomUUID(), ...(approved ? { 'x-launch-approval': String(approved.id) } : {}) };
    try {
      const result = await api<{ run: { id: number }; deferred: boolean }>('POST', `/v1/campaigns/${campaign.id}/launch`, { now: nowBox.checked }, 'application/json', headers);
      location.hash = `#/runs/${result.run.id}`;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409 && error.message.startsWith('approval_required'))) throw error;
      const id = campaign.id;
      replaceChildren(
        status,
        t('console.approval.needed'),
        ' ',
        h('button', { type: 'button', id: 'request-approval', class: 'secondary', onclick: run(async () => {
          const request = await api<Approval>('POST', `/v1/campaigns/${id}/approvals`);
          status.textContent = t('console.approval.requested', { id: request.id, recipients: formatNumber(request.recipients) });
        }) }, t('console.approval.request')),
      );
      status.className = 'warn';
    }
  }) }, t('console.editor.launch'));
  // A test send to a short list (staff numbers) first: the same launch route with `test`.
  const testList = h('input', { type: 'text', id: 'test-list', pattern: '[a-z0-9][a-z0-9-]*', 'aria-describedby': 'test-list-help' });
  const testButton = h('button', { type: 'button', id: 'test-send', class: 'secondary', onclick: run(async () => {
    if (!campaign) return;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(testList.value)) throw new Error(t('console.audience.badListId'));
    const savedId = await save();
    const result = await api<{ run: { id: number } }>('POST', `/v1/campaigns/${savedId}/launch`, { test: testList.value, now: true }, 'application/json', { 'idempotency-key': crypto.randomUUID() });
    location.hash = `#/runs/${result.run.id}`;
  }) }, t('console.editor.testSend'));
  const updateButtons = (): void => {
    testButton.disabled = !campaign;
    saveButton.disabled = !campaign;
    previewButton.disabled = !campaign;
    launchButton.disabled = !campaign || !report;
  };

  messageFromYaml();
  main.append(
    h('h1', {}, id ? t('console.editor.titleEdit', { id }) : t('console.editor.titleNew')),
    h(
      'div',
      { class: 'grid2' },
      h(
        'div',
        {},
        h('label', { for: 'message-text' }, t('console.editor.message')),
        messageField,
        h('p', { class: 'muted', id: 'carrier-help' }, t('console.editor.help')),
        analysis,
      ),
      h('div', {}, h('label', { for: 'campaign-yaml' }, t('console.editor.yaml')), yamlField),
    ),
    editable
      ? h(
          'div',
          { class: 'actions' },
          saveButton,
          previewButton,
          launchButton,
          h('label', { for: 'launch-now', style: 'font-weight:normal;margin:0;align-self:center' }, nowBox, ' ', t('console.launch.now')),
        )
      : h('div', { class: 'actions' }, previewButton),
    status,
    reachBox,
    editable
      ? h(
          'details',
          {},
          h('summary', {}, t('console.editor.testTitle')),
          h('label', { for: 'test-list' }, t('console.editor.testList')),
          testList,
          h('p', { class: 'muted', id: 'test-list-help' }, t('console.editor.testHelp')),
          h('div', { class: 'actions' }, testButton),
        )
      : '',
  );
  analyse();
}
