import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  CAMPAIGN_SCHEMA,
  CampaignValidationError,
  contentHash,
  formatPath,
  parseCampaign,
  validateCampaign,
  type CampaignIssue,
} from '../../src/domain/campaign.js';
import { campaignDocument, campaignYaml } from '../factories.js';

const campaignsDir = fileURLToPath(new URL('../../campaigns/', import.meta.url));

function issuesOf(act: () => unknown): CampaignIssue[] {
  try {
    act();
  } catch (error) {
    if (error instanceof CampaignValidationError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a CampaignValidationError');
}

/** Every object schema in the schema file, with its JSON path, so each can be checked for descriptions. */
function* schemaNodes(node: unknown, path: string): Generator<[string, Record<string, unknown>]> {
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  yield [path, schema];
  for (const [key, child] of Object.entries((schema.properties as Record<string, unknown>) ?? {})) yield* schemaNodes(child, `${path}.${key}`);
  if (schema.items) yield* schemaNodes(schema.items, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') yield* schemaNodes(schema.additionalProperties, `${path}.*`);
  if (schema.propertyNames) yield* schemaNodes(schema.propertyNames, `${path}.(name)`);
  for (const [i, branch] of ((schema.oneOf as unknown[]) ?? []).entries()) yield* schemaNodes(branch, `${path}|${i}`);
}

describe('campaign.schema.json', () => {
  it.each([...schemaNodes(CAMPAIGN_SCHEMA, '$')].map(([path, node]) => [path, node] as const))('%s has a description', (_, node) => {
    expect(typeof node.description).toBe('string');
    expect((node.description as string).length).toBeGreaterThan(5);
  });
});

describe(parseCampaign.name, () => {
  const exampleFiles = readdirSync(campaignsDir).filter((file) => /\.(ya?ml|json)$/.test(file) && !file.endsWith('.schema.json'));

  it('has example campaigns to check', () => {
    expect(exampleFiles.length).toBeGreaterThanOrEqual(3);
  });

  it.each(exampleFiles)('accepts the example campaigns/%s', (file) => {
    const sut = parseCampaign(readFileSync(`${campaignsDir}${file}`, 'utf8'));
    expect(sut.id).toMatch(/^[a-z0-9-]+$/);
    for (const operator of sut.operators) expect(sut.message.sender[operator]).toBeTruthy();
  });

  it('fills in the documented defaults', () => {
    const sut = parseCampaign(campaignYaml({ schedule: { start: '2021-09-23T08:00:00+07:00' } }));
    expect(sut).toMatchObject({
      priority: 'normal',
      message: { encoding: 'auto' },
      audience: { areas: { province: [], commune: [] }, exclude: [] },
      throttle: {},
      validity: 'PT24H',
      screens: [],
      schedule: { timezone: 'Asia/Ho_Chi_Minh', quietHours: { from: '22:00', to: '07:00' } },
    });
  });

  it('reads JSON text as well as YAML, to the same campaign', () => {
    const fromJson = parseCampaign(JSON.stringify(campaignDocument(), null, 2));
    const fromYaml = parseCampaign(campaignYaml());
    expect(fromJson).toEqual(fromYaml);
  });

  it('keeps quietHours: null as "no quiet hours"', () => {
    const sut = parseCampaign(campaignYaml({ schedule: { start: '2021-09-23T08:00:00+07:00', quietHours: null } }));
    expect(sut.schedule?.quietHours).toBeNull();
  });

  it('drops the $schema editor hint', () => {
    const sut = parseCampaign(campaignYaml({ $schema: './campaign.schema.json' }));
    expect(sut).not.toHaveProperty('$schema');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a missing id', { id: undefined }, 'id', 'is required'],
    ['a bad id', { id: 'Can Tho!' }, 'id', 'wrong format'],
    ['an unknown field', { colour: 'red' }, 'colour', 'not a known field'],
    ['an unknown operator', { operators: ['viettel', 'gmobile'] }, 'operators[1]', 'viettel, vnpt, mobifone'],
    ['no operators', { operators: [] }, 'operators', 'fewer than 1'],
    ['an unknown priority', { priority: 'high' }, 'priority', 'normal, urgent'],
    ['an unknown encoding', { message: { ...campaignDocument().message as object, encoding: 'utf8' } }, 'message.encoding', 'auto, gsm7, ucs2, unaccented'],
    ['an empty text', { message: { ...campaignDocument().message as object, text: '' } }, 'message.text', 'fewer than 1'],
    ['a sender over 11 characters', { message: { text: 'x', sender: { viettel: 'STTTT-CANTHO', vnpt: 'A', mobifone: 'A' } } }, 'message.sender.viettel', 'more than 11'],
    ['a sender for an unknown carrier', { message: { text: 'x', sender: { viettel: 'A', vnpt: 'A', mobifone: 'A', itel: 'A' } } }, 'message.sender.itel', 'not a known field'],
    ['a missing sender for an operator', { message: { text: 'x', sender: { viettel: 'A', vnpt: 'A' } } }, 'message.sender.mobifone', 'mobifone is in operators'],
    ['a sender with diacritics', { message: { text: 'x', sender: { viettel: 'SởTTTT', vnpt: 'A', mobifone: 'A' } } }, 'message.sender.viettel', 'ASCII'],
    ['a sender with a leading space', { message: { text: 'x', sender: { viettel: ' STTTT', vnpt: 'A', mobifone: 'A' } } }, 'message.sender.viettel', 'space'],
    ['no audience lists', { audience: { lists: [] } }, 'audience.lists', 'fewer than 1'],
    ['ignoreOptOuts on a normal campaign', { audience: { lists: ['a'], ignoreOptOuts: true } }, 'audience.ignoreOptOuts', 'only for priority: urgent'],
    ['a throttle for a carrier not in operators', { operators: ['viettel'], message: { text: 'x', sender: { viettel: 'A' } }, throttle: { vnpt: 50 } }, 'throttle.vnpt', 'not in operators'],
    ['a zero throttle', { throttle: { viettel: 0 } }, 'throttle.viettel', 'must be > 0'],
    ['a throttle that is not a number', { throttle: { viettel: 'fast' } }, 'throttle.viettel', 'must be number'],
    ['a validity in years', { validity: 'P1Y' }, 'validity', 'wrong format'],
    ['a validity without units', { validity: 'P' }, 'validity', 'wrong format'],
    ['a zero validity', { validity: 'PT0S' }, 'validity', 'longer than zero'],
    ['a schedule without start', { schedule: { rrule: 'FREQ=DAILY' } }, 'schedule.start', 'is required'],
    ['a start that is not ISO 8601', { schedule: { start: '23/09/2021 08:00' } }, 'schedule.start', 'wrong format'],
    ['a start on 31 June', { schedule: { start: '2021-06-31T08:00:00+07:00' } }, 'schedule.start', 'not a real date'],
    ['an end before start', { schedule: { start: '2021-09-23T08:00:00+07:00', end: '2021-09-22T08:00:00+07:00' } }, 'schedule.end', 'after start'],
    ['an unknown time zone', { schedule: { start: '2021-09-23T08:00:00', timezone: 'Asia/Can_Tho' } }, 'schedule.timezone', 'IANA'],
    ['an rrule that does not parse', { schedule: { start: '2021-09-23T08:00:00+07:00', rrule: 'every day' } }, 'schedule.rrule', 'KEY=VALUE'],
    ['an rrule without FREQ', { schedule: { start: '2021-09-23T08:00:00+07:00', rrule: 'COUNT=8' } }, 'schedule.rrule', 'FREQ'],
    ['an rrule with DTSTART', { schedule: { start: '2021-09-23T08:00:00+07:00', rrule: 'DTSTART=20210923T080000;FREQ=DAILY' } }, 'schedule.rrule', 'schedule.start'],
    ['a minutely rrule', { schedule: { start: '2021-09-23T08:00:00+07:00', rrule: 'FREQ=MINUTELY' } }, 'schedule.rrule', 'HOURLY'],
    ['an rrule with COUNT and UNTIL', { schedule: { start: '2021-09-23T08:00:00+07:00', rrule: 'FREQ=DAILY;COUNT=3;UNTIL=20211001' } }, 'schedule.rrule', 'together'],
    ['an rrule with BYHOUR=24', { schedule: { start: '2021-09-23T08:00:00+07:00', rrule: 'FREQ=DAILY;BYHOUR=24' } }, 'schedule.rrule', 'hours 0–23'],
    ['quiet hours in the wrong format', { schedule: { start: '2021-09-23T08:00:00+07:00', quietHours: { from: '9pm', to: '07:00' } } }, 'schedule.quietHours.from', 'HH:MM'],
    ['quiet hours at 24:00', { schedule: { start: '2021-09-23T08:00:00+07:00', quietHours: { from: '24:00', to: '07:00' } } }, 'schedule.quietHours.from', 'HH:MM'],
    ['an empty quiet window', { schedule: { start: '2021-09-23T08:00:00+07:00', quietHours: { from: '07:00', to: '07:00' } } }, 'schedule.quietHours', 'equal'],
    ['quiet hours as a string', { schedule: { start: '2021-09-23T08:00:00+07:00', quietHours: '21:00-07:00' } }, 'schedule.quietHours', 'null or an object'],
    ['a screen item without Vietnamese', { screens: [{ targets: { kinds: ['led'] }, text: { en: 'Hi' }, duration: 10 }] }, 'screens[0].text.vi', 'is required'],
    ['a screen item with no targets', { screens: [{ targets: {}, text: { vi: 'Chào' }, duration: 10 }] }, 'screens[0].targets', 'fewer than 1'],
    ['an unknown screen kind', { screens: [{ targets: { kinds: ['tv'] }, text: { vi: 'Chào' }, duration: 10 }] }, 'screens[0].targets.kinds[0]', 'led, airport-board'],
    ['a bad language code', { screens: [{ targets: { kinds: ['led'] }, text: { vi: 'Chào', English: 'Hi' }, duration: 10 }] }, 'screens[0].text.English', 'not a valid name'],
    ['a fractional duration', { screens: [{ targets: { kinds: ['led'] }, text: { vi: 'Chào' }, duration: 1.5 }] }, 'screens[0].duration', 'integer'],
    ['a text over 5000 characters', { message: { text: 'ạ'.repeat(5001), sender: { viettel: 'A', vnpt: 'A', mobifone: 'A' } } }, 'message.text', 'more than 5000'],
  ])('reports %s at its path', (_, overrides, path, message) => {
    const issues = issuesOf(() => parseCampaign(campaignYaml(overrides)));
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toContain(message);
    expect(issue?.line).toBeGreaterThan(0);
    expect(issue?.column).toBeGreaterThan(0);
  });

  it('lets an urgent campaign reach opted-out numbers', () => {
    const campaign = parseCampaign(campaignYaml({ priority: 'urgent', audience: { lists: ['a'], ignoreOptOuts: true } }));
    expect(campaign.audience.ignoreOptOuts).toBe(true);
    expect(parseCampaign(campaignYaml()).audience.ignoreOptOuts).toBe(false);
  });

  it('reports every problem at once', () => {
    const issues = issuesOf(() =>
      parseCampaign(campaignYaml({ priority: 'high', validity: 'forever', operators: ['viettel', 'gmobile'], throttle: { vnpt: -1 }, colour: 'red' })),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(expect.arrayContaining(['colour', 'operators[1]', 'priority', 'throttle.vnpt', 'validity']));
  });

  it('gives the line and column of the offending value', () => {
    const text = ['id: cantho-test', 'name: x', 'message:', '  text: hello', '  encoding: utf8', '  sender: { viettel: A }', 'audience: { lists: [a] }', 'operators: [viettel]', ''].join('\n');
    const issues = issuesOf(() => parseCampaign(text));
    expect(issues).toEqual([expect.objectContaining({ path: 'message.encoding', line: 5, column: 13 })]);
  });

  it('points an unknown key at the key itself', () => {
    const text = ['id: cantho-test', 'name: x', 'message: { text: hi, sender: { viettel: A } }', 'audience: { lists: [a] }', 'operators: [viettel]', 'shedule: {}', ''].join('\n');
    expect(issuesOf(() => parseCampaign(text))).toEqual([expect.objectContaining({ path: 'shedule', line: 6, column: 1 })]);
  });

  it('points a missing field at its parent', () => {
    const text = ['id: cantho-test', 'name: x', 'message:', '  text: hi', 'audience: { lists: [a] }', 'operators: [viettel]', ''].join('\n');
    expect(issuesOf(() => parseCampaign(text))).toContainEqual(expect.objectContaining({ path: 'message.sender', line: 4, column: 3 }));
  });

  it('gives line and column in JSON text too', () => {
    const text = JSON.stringify(campaignDocument({ priority: 'high' }), null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('"priority"')) + 1;
    expect(issuesOf(() => parseCampaign(text))).toEqual([expect.objectContaining({ path: 'priority', line })]);
  });

  it.each([
    ['broken YAML', 'id: [unclosed\nname: x'],
    ['a duplicate key', 'id: a\nid: b\n'],
    ['a tab-indented block', 'id: x\nmessage:\n\ttext: hi\n'],
    ['two documents', `${campaignYaml()}---\n${campaignYaml()}`],
    ['broken JSON', '{"id": "x",'],
  ])('reports %s with its position', (_, text) => {
    const issues = issuesOf(() => parseCampaign(text));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]?.line).toBeGreaterThan(0);
  });

  it.each([
    ['an empty document', ''],
    ['only a comment', '# nothing\n'],
    ['a scalar', 'hello'],
    ['a list', '- a\n- b\n'],
  ])('refuses %s', (_, text) => {
    expect(issuesOf(() => parseCampaign(text)).length).toBeGreaterThan(0);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`${'a'.repeat(i + 1)}: &${'a'.repeat(i + 1)} [${Array(10).fill(`*${'a'.repeat(i)}`).join(', ')}]`);
    expect(() => parseCampaign(lines.join('\n'))).toThrow(CampaignValidationError);
  });
});

describe(validateCampaign.name, () => {
  it('validates a parsed JSON body without touching the caller’s object', () => {
    const body = campaignDocument();
    const sut = validateCampaign(body);
    expect(sut.priority).toBe('normal');
    expect(body).not.toHaveProperty('priority');
  });

  it('reports paths without positions', () => {
    const issues = issuesOf(() => validateCampaign(campaignDocument({ priority: 'high' })));
    expect(issues).toEqual([{ path: 'priority', message: 'must be one of: normal, urgent', key: 'oneOf', params: { values: 'normal, urgent' } }]);
  });
});

describe(contentHash.name, () => {
  it('is a SHA-256 hex digest', () => {
    expect(contentHash(parseCampaign(campaignYaml()))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores key order, YAML vs JSON, spelled-out defaults and the $schema hint', () => {
    const reordered = Object.fromEntries(Object.entries(campaignDocument()).reverse());
    const hashes = [
      contentHash(parseCampaign(campaignYaml())),
      contentHash(parseCampaign(stringify(reordered))),
      contentHash(parseCampaign(JSON.stringify(campaignDocument()))),
      contentHash(parseCampaign(campaignYaml({ priority: 'normal', validity: 'PT24H', $schema: 'x.json' }))),
    ];
    expect(new Set(hashes).size).toBe(1);
  });

  it.each([
    ['text', { message: { ...(campaignDocument().message as object), text: 'Khác' } }],
    ['priority', { priority: 'urgent' }],
    ['operator order', { operators: ['vnpt', 'viettel', 'mobifone'] }],
    ['validity', { validity: 'PT12H' }],
  ])('changes when the %s changes', (_, overrides) => {
    expect(contentHash(parseCampaign(campaignYaml(overrides)))).not.toBe(contentHash(parseCampaign(campaignYaml())));
  });
});

describe(formatPath.name, () => {
  it.each([
    [[], ''],
    [['id'], 'id'],
    [['screens', 0, 'text', 'vi'], 'screens[0].text.vi'],
    [['operators', 2], 'operators[2]'],
  ] as const)('%j → %s', (segments, expected) => {
    expect(formatPath(segments)).toBe(expected);
  });
});
