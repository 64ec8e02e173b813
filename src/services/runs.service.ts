import { NotFoundError } from '../errors.js';
import type { RunStatus, RunStatusReader } from '../jobs/engine-contract.js';
import type { CampaignPriority, Run, RunState } from '../store/database.js';
import type { RunFilter, RunRepository } from '../store/run.repository.js';

/** A run as the API shows it (GET /v1/runs, the launch answer). */
export interface RunView {
  id: number;
  campaignId: string;
  campaignVersionId: number;
  contentHash: string;
  occurrenceId: string;
  state: RunState;
  priority: CampaignPriority;
  testList: string | null;
  audienceSize: number | null;
  scheduledFor: string;
  startedAt: string | null;
  finishedAt: string | null;
  expiresAt: string | null;
  launchedBy: string;
  error: string | null;
  createdAt: string;
}

export function viewOfRun(run: Run, campaign: { campaignId: string; contentHash: string }): RunView {
  return {
    id: run.id,
    campaignId: campaign.campaignId,
    campaignVersionId: run.campaign_version_id,
    contentHash: campaign.contentHash,
    occurrenceId: run.occurrence_id,
    state: run.state,
    priority: run.priority,
    testList: run.test_list,
    audienceSize: run.audience_size,
    scheduledFor: run.scheduled_for.toISOString(),
    startedAt: run.started_at?.toISOString() ?? null,
    finishedAt: run.finished_at?.toISOString() ?? null,
    expiresAt: run.expires_at?.toISOString() ?? null,
    launchedBy: run.launched_by,
    error: run.error,
    createdAt: run.created_at.toISOString(),
  };
}

/** Reading runs: the list from the runs table, one run's progress from the engine's RunStatusReader. */
export class RunQueryService {
  constructor(
    private readonly runs: RunRepository,
    private readonly status: RunStatusReader,
  ) {}

  async list(filter: RunFilter): Promise<RunView[]> {
    const rows = await this.runs.list(filter);
    return rows.map((row) => viewOfRun(row, { campaignId: row.campaign_id, contentHash: row.content_hash }));
  }

  async get(id: number): Promise<RunStatus> {
    const status = await this.status.get(id);
    if (!status) throw new NotFoundError(`run ${id}`);
    return status;
  }
}
