import { placeWithin, type AreaScope } from '../domain/area-scope.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { translator, type Language } from '../i18n/index.js';
import { areaKey, parseArea, parseDay, type AreaFilter, type AreaRef } from './area.js';
import { buildDailyReport, type DailyReport } from './daily-report.js';
import { dailyReportCsv, dailyReportHtml, runReportCsv, runReportHtml, type ReportFormat } from './render.js';
import type { AreaGroup, ManualEntry, ReportRepository } from './report.repository.js';
import { buildRunReport, type RunReport } from './run-report.js';

/** The report's heading and signature when the area group names none (LOA_REPORT_*). */
export interface ReportDefaults {
  organisation: string | null;
  compilerName: string | null;
  compilerPhone: string | null;
  timeZone: string;
}

export interface RenderedReport {
  contentType: string;
  body: string;
}

/** Reports for the API, the CLI (through it) and the scheduled e-mail: build, render, manual entries, area groups. */
export class ReportService {
  constructor(
    private readonly repository: ReportRepository,
    private readonly defaults: ReportDefaults,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  runReport(runId: number): Promise<RunReport> {
    return buildRunReport(this.repository, runId, this.clock());
  }

  async resolveArea(ref: AreaRef, language: Language = 'vi'): Promise<AreaFilter> {
    const t = translator(language);
    const base = { key: areaKey(ref), organisation: this.defaults.organisation, compilerName: this.defaults.compilerName, compilerPhone: this.defaults.compilerPhone };
    if (ref.kind === 'all') return { ...base, label: t('report.area.all'), province: null, communes: null };
    if (ref.kind === 'province') return { ...base, label: t('report.area.province', { province: ref.province }), province: ref.province, communes: null };
    const group = await this.repository.group(ref.group);
    if (!group) throw new NotFoundError(`area group '${ref.group}'`);
    return {
      key: base.key,
      label: group.name,
      province: group.province,
      communes: group.communes,
      organisation: group.organisation ?? base.organisation,
      compilerName: group.compilerName ?? base.compilerName,
      compilerPhone: group.compilerPhone ?? base.compilerPhone,
    };
  }

  /**
   * For a key scoped to areas (issue 12 item 5): refuses a report area reaching outside its scope,
   * naming it. `all` is outside every scope; a province is inside when the scope holds it whole; a
   * group when each of its communes is inside.
   */
  async assertAreaWithin(scope: AreaScope | null, areaText: string | undefined): Promise<void> {
    if (!scope) return;
    const area = await this.resolveArea(parseArea(areaText));
    if (!areaWithin(scope, area)) throw new ForbiddenError(`the report area '${area.key}' reaches outside this key's areas`);
  }

  /** The groups a key may report on: every group, or for a scoped key those inside its scope. */
  async groupsWithin(scope: AreaScope | null): Promise<AreaGroup[]> {
    const groups = await this.repository.groups();
    return scope ? groups.filter((group) => group.communes.every((commune) => placeWithin(scope, group.province, commune))) : groups;
  }

  /** A manual entry's area, for the scope check before it is removed. */
  async entryArea(id: number): Promise<string> {
    const area = await this.repository.entryArea(id);
    if (area === null) throw new NotFoundError(`report entry ${id}`);
    return area;
  }

  async dailyReport(input: { day: string; area?: string; language?: Language; compilerName?: string; compilerPhone?: string }): Promise<DailyReport> {
    const day = parseDay(input.day);
    const area = await this.resolveArea(parseArea(input.area), input.language);
    if (input.compilerName) area.compilerName = input.compilerName;
    if (input.compilerPhone) area.compilerPhone = input.compilerPhone;
    return buildDailyReport(this.repository, { day, area, timeZone: this.defaults.timeZone, now: this.clock() });
  }

  render(report: RunReport | DailyReport, format: ReportFormat, language: Language): RenderedReport {
    if (format === 'json') return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(report) };
    if (format === 'csv') return { contentType: 'text/csv; charset=utf-8', body: report.kind === 'run' ? runReportCsv(report) : dailyReportCsv(report) };
    return { contentType: 'text/html; charset=utf-8', body: report.kind === 'run' ? runReportHtml(report, language) : dailyReportHtml(report, language) };
  }

  async addEntry(input: { day: string; area?: string; channel: string; count: number; minutes?: number | null; text: string }, actor: string): Promise<ManualEntry> {
    const day = parseDay(input.day);
    const ref = parseArea(input.area);
    if (ref.kind === 'group' && !(await this.repository.group(ref.group))) throw new NotFoundError(`area group '${ref.group}'`);
    return this.repository.addEntry({ day, area: areaKey(ref), channel: input.channel, count: input.count, minutes: input.minutes ?? null, text: input.text, createdBy: actor });
  }

  entries(day: string, area?: string): Promise<ManualEntry[]> {
    return this.repository.entries(parseDay(day), areaKey(parseArea(area)));
  }

  async deleteEntry(id: number): Promise<void> {
    if (!(await this.repository.deleteEntry(id))) throw new NotFoundError(`report entry ${id}`);
  }

  putGroup(group: AreaGroup): Promise<{ group: AreaGroup; created: boolean }> {
    if (new Set(group.communes).size !== group.communes.length) throw new ConflictError(`area group '${group.id}' lists a commune twice`);
    return this.repository.putGroup(group);
  }

  async deleteGroup(id: string): Promise<void> {
    if (!(await this.repository.deleteGroup(id))) throw new NotFoundError(`area group '${id}'`);
  }
}

function areaWithin(scope: AreaScope, area: AreaFilter): boolean {
  if (area.province === null) return false;
  const province = area.province;
  if (area.communes === null) return scope.provinces.includes(province);
  return area.communes.every((commune) => placeWithin(scope, province, commune));
}
