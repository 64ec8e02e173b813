import type { RunLauncher, RunStatusReader } from '../jobs/engine-contract.js';
import { createLogger } from '../logger.js';
import { ApiKeyRepository } from '../store/api-key.repository.js';
import { AudienceRepository } from '../store/audience.repository.js';
import { AuditRepository } from '../store/audit.repository.js';
import { CampaignRepository } from '../store/campaign.repository.js';
import type { Store } from '../store/db.js';
import { RunRepository } from '../store/run.repository.js';
import { ApiKeyService } from './api-keys.service.js';
import { CampaignService } from './campaigns.service.js';
import { LaunchService } from './launch.service.js';
import { RunControlService, type RunResumer } from './run-control.service.js';
import { RunQueryService } from './runs.service.js';
import { RunControlRepository } from '../store/run-control.repository.js';
import type { Logger } from '../logger.js';

/** What the /v1 API calls; each route plugin takes the one service it needs (AppDeps.services). */
export interface ApiServices {
  apiKeys: ApiKeyService;
  campaigns: CampaignService;
  launches: LaunchService;
  runs: RunQueryService;
  runControl: RunControlService;
}

/** The engine's side of a launch: the API creates runs and reads their progress through these. */
export interface EngineParts {
  launcher: RunLauncher;
  statusReader: RunStatusReader;
  /** Enqueues a resumed run's batches (JobQueues.resume); default the launcher when it can. */
  resumer?: RunResumer;
}

function resumerOf(engine: EngineParts): RunResumer {
  if (engine.resumer) return engine.resumer;
  const launcher = engine.launcher as RunLauncher & Partial<RunResumer>;
  if (typeof launcher.resume === 'function') return { resume: (runId, options) => launcher.resume!(runId, options) };
  return { resume: () => Promise.reject(new Error('this process cannot enqueue a resumed run')) };
}

/** The services over one store. `clock` drives quiet hours (tests pass a fixed time). */
export function createApiServices(store: Store, engine: EngineParts, options: { clock?: () => Date; logger?: Logger } = {}): ApiServices {
  const audit = new AuditRepository(store.db);
  const campaigns = new CampaignRepository(store.db);
  const runs = new RunRepository(store.db);
  return {
    apiKeys: new ApiKeyService(new ApiKeyRepository(store.db), audit),
    campaigns: new CampaignService(campaigns, audit),
    launches: new LaunchService({
      campaigns,
      runs,
      audit,
      lists: new AudienceRepository(store.db, store.pool),
      launcher: engine.launcher,
      clock: options.clock ?? (() => new Date()),
    }),
    runs: new RunQueryService(runs, engine.statusReader),
    runControl: new RunControlService({
      runs,
      control: new RunControlRepository(store.db),
      audit,
      resumer: resumerOf(engine),
      ...(options.clock ? { clock: options.clock } : {}),
      logger: options.logger ?? silentLogger,
    }),
  };
}

const silentLogger = createLogger('silent');
