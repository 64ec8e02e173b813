import type { RunLauncher, RunStatusReader } from '../jobs/engine-contract.js';
import { createLogger } from '../logger.js';
import { ApiKeyRepository } from '../store/api-key.repository.js';
import { AudienceRepository } from '../store/audience.repository.js';
import { AuditRepository } from '../store/audit.repository.js';
import { CampaignRepository } from '../store/campaign.repository.js';
import type { Store } from '../store/db.js';
import { RunRepository } from '../store/run.repository.js';
import { ScreenRepository } from '../store/screen.repository.js';
import type { PlaylistChanges } from '../screens/playlist-changes.js';
import { PlaylistService } from '../screens/playlist.service.js';
import { ScreenService } from '../screens/screens.service.js';
import { AudioService } from '../loudspeakers/audio.service.js';
import { LoudspeakerService } from '../loudspeakers/loudspeakers.service.js';
import { EspeakEngine, type SpeechEngine } from '../loudspeakers/speech-engine.js';
import { SpeechRenderer } from '../loudspeakers/speech-renderer.js';
import { AudioClipRepository } from '../store/audio-clip.repository.js';
import { ApiKeyService } from './api-keys.service.js';
import { AreaScopeService } from './area-scope.service.js';
import { AreaScopeRepository } from '../store/area-scope.repository.js';
import { CampaignService } from './campaigns.service.js';
import { BroadcastPlacement } from './broadcast-placement.js';
import { LaunchService } from './launch.service.js';
import { RunControlService, type RunResumer } from './run-control.service.js';
import { RunQueryService } from './runs.service.js';
import { RunControlRepository } from '../store/run-control.repository.js';
import type { Logger } from '../logger.js';
import { ReportRepository } from '../reports/report.repository.js';
import { ReportService, type ReportDefaults } from '../reports/reports.service.js';
import { DEFAULT_TIME_ZONE } from '../domain/time-zone.js';
import { UserService } from '../api/session-auth.js';
import { UserRepository } from '../store/user.repository.js';
import { ReachPreview } from '../api/routes/console.js';
import { LaunchApprovals } from '../api/routes/console-approvals.js';

/** What the /v1 API calls; each route plugin takes the one service it needs (AppDeps.services). */
export interface ApiServices {
  apiKeys: ApiKeyService;
  /** What keys scoped to areas may see and launch (issue 12, item 5). */
  scopes: AreaScopeService;
  /** GET /v1/audit reads the log straight from its repository. */
  audit: AuditRepository;
  campaigns: CampaignService;
  launches: LaunchService;
  runs: RunQueryService;
  runControl: RunControlService;
  /** Screens (issue 10), when the process has a PlaylistChanges channel. */
  screens?: ScreenServices;
  /** Run and daily reports (issue 12). */
  reports: ReportService;
  /** Console staff accounts and cookie sessions (issue 13). */
  users?: UserService;
  /** Reach and cost of a stored campaign (POST /v1/campaigns/:id/preview). */
  reach?: ReachPreview;
  /** The console's approval rule for large launches (src/api/routes/console-approvals.ts). */
  approvals?: LaunchApprovals;
}

export interface ScreenServices {
  registry: ScreenService;
  playlists: PlaylistService;
  changes: PlaylistChanges;
  /** Longest `?wait=` a long-poll may ask for (LOA_SCREENS_MAX_WAIT_SECONDS). */
  maxWaitSeconds: number;
  /** Loudspeaker clusters (issue 11), devices of the same registry. */
  loudspeakers: LoudspeakerService;
  audio: AudioService;
  /** Puts a run's items on the devices: manual launches and the scheduler's occurrences alike. */
  broadcasts: BroadcastPlacement;
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
export function createApiServices(
  store: Store,
  engine: EngineParts,
  options: { clock?: () => Date; logger?: Logger; playlistChanges?: PlaylistChanges; maxWaitSeconds?: number; speechEngine?: SpeechEngine; reportDefaults?: ReportDefaults } = {},
): ApiServices {
  const audit = new AuditRepository(store.db);
  const campaigns = new CampaignRepository(store.db);
  const runs = new RunRepository(store.db);
  const screens = options.playlistChanges ? createScreenServices(store, options.playlistChanges, options) : undefined;
  const services: ApiServices = {
    ...(screens ? { screens } : {}),
    apiKeys: new ApiKeyService(new ApiKeyRepository(store.db), audit),
    scopes: new AreaScopeService(new AreaScopeRepository(store.db)),
    audit,
    users: new UserService(new UserRepository(store.db), audit),
    reach: new ReachPreview(store.db, new CampaignService(campaigns, audit)),
    approvals: new LaunchApprovals(store.db, audit),
    campaigns: new CampaignService(campaigns, audit),
    launches: new LaunchService({
      campaigns,
      runs,
      audit,
      lists: new AudienceRepository(store.db, store.pool),
      launcher: engine.launcher,
      clock: options.clock ?? (() => new Date()),
      ...(screens ? { broadcasts: screens.broadcasts } : {}),
    }),
    runs: new RunQueryService(runs, engine.statusReader),
    reports: new ReportService(
      new ReportRepository(store.db),
      options.reportDefaults ?? { organisation: null, compilerName: null, compilerPhone: null, timeZone: DEFAULT_TIME_ZONE },
      options.clock ?? (() => new Date()),
    ),
    runControl: new RunControlService({
      runs,
      control: new RunControlRepository(store.db),
      audit,
      resumer: resumerOf(engine),
      ...(options.clock ? { clock: options.clock } : {}),
      logger: options.logger ?? silentLogger,
    }),
  };
  // An operator's pause or cancel takes the run's items off the screens; a resume puts them back.
  // Automatic pauses (a carrier's errors, quiet hours) concern SMS only and leave the screens alone.
  if (screens) {
    const { playlists } = screens;
    services.runControl.addListener({
      onPaused: (runId) => playlists.withdrawRun(runId).then(() => undefined),
      onCancelled: (runId) => playlists.withdrawRun(runId).then(() => undefined),
      onResumed: (runId) => playlists.restoreRun(runId).then(() => undefined),
    });
  }
  return services;
}

const silentLogger = createLogger('silent');

/** Screens and loudspeakers over one store; the scheduler role makes them too, to place its runs' items. */
export function createScreenServices(store: Store, changes: PlaylistChanges, options: { clock?: () => Date; maxWaitSeconds?: number; speechEngine?: SpeechEngine } = {}): ScreenServices {
  const audit = new AuditRepository(store.db);
  const repository = new ScreenRepository(store.db);
  const clock = options.clock ? { clock: options.clock } : {};
  const playlists = new PlaylistService({ screens: repository, changes, ...clock });
  const registry = new ScreenService({ screens: repository, audit, playlists, ...clock });
  const audio = new AudioService({ clips: new AudioClipRepository(store.db), renderer: new SpeechRenderer(options.speechEngine ?? new EspeakEngine()) });
  const loudspeakers = new LoudspeakerService({ registry, screens: repository, playlists, audio, ...clock });
  const broadcasts = new BroadcastPlacement({ playlists, loudspeakers, campaigns: new CampaignRepository(store.db) });
  return { registry, playlists, changes, maxWaitSeconds: options.maxWaitSeconds ?? 60, loudspeakers, audio, broadcasts };
}
