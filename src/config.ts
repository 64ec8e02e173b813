import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { userInfo } from 'node:os';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { CARRIER_PROFILES } from '../adapters/carriers/index.js';
import { DEFAULT_MAX_PARTS } from './domain/campaign-warnings.js';
import { CARRIER_IDS, type BindMode, type CarrierId, type MessageIdFormat } from './domain/carrier.js';
import { MAX_PARTS } from './domain/encoding.js';
import { pickLanguage, type Language } from './i18n/index.js';

/** One SMSC endpoint of a carrier account; `count` is how many binds the carrier allows there. */
export interface BindEndpoint {
  host: string;
  port: number;
  systemId: string;
  password: string;
  count: number;
}

export interface CarrierConfig {
  id: CarrierId;
  binds: readonly BindEndpoint[];
  systemType: string;
  /** Granted segments per second for the whole account. */
  tps: number;
  /** Outstanding PDUs allowed per bind. */
  window: number;
  bindMode: BindMode;
  /** How this SMSC writes message ids (the carrier profile's default when the file does not say). */
  messageId: { submit: MessageIdFormat; receipt: MessageIdFormat };
}

export interface DatabaseConfig {
  databaseUrl: string;
}

export interface RedisConfig {
  redisUrl: string;
  /** Prefix of every Redis key (BullMQ queues, bind leases); lets test files share one Redis. */
  redisPrefix: string;
}

export interface HttpConfig {
  host: string;
  port: number;
  /** Largest CSV import body the API accepts (LOA_IMPORT_MAX_BYTES); larger ones get 413. */
  importMaxBytes: number;
  /** Longest `?wait=` a screen's long-poll may hold a request, seconds (LOA_SCREENS_MAX_WAIT_SECONDS). */
  screensMaxWaitSeconds: number;
  /** Requests per window per API key, per screen token (LOA_RATE_LIMIT_*; src/api/rate-limit.ts). */
  rateLimit: { max: number; screenMax: number; windowMs: number };
}

export type LogFormat = 'json' | 'pretty';

export interface LogConfig {
  logLevel: string;
  /** `json` for machines (the default); `pretty`: one readable line per entry, local time. */
  logFormat: LogFormat;
}

export interface CarriersConfig {
  /** `simulator` when LOA_CARRIERS is absent: the process starts simulated SMSCs and binds to them. */
  carriersSource: 'file' | 'simulator';
  /** First port of the built-in simulated SMSCs (one per carrier, consecutive). */
  simulatorPort: number;
  /**
   * LOA_WORKER_MAX_BINDS: most binds of each carrier one worker process holds (null: every free one
   * it can lease). With several workers, spreads the binds so that a crash loses only part of them.
   */
  workerMaxBinds: number | null;
  carriers: Readonly<Record<CarrierId, CarrierConfig>>;
}

export interface CampaignRules {
  /** Warn about messages of more parts than this (LOA_MAX_PARTS, default DEFAULT_MAX_PARTS). */
  maxParts: number;
}

/** Everything a service process reads; commands read only the parts they need (loadDatabaseConfig …). */
export interface Config extends DatabaseConfig, RedisConfig, HttpConfig, LogConfig, CarriersConfig, CampaignRules {
  shutdownTimeoutMs: number;
  receipts: ReceiptConfig;
  recovery: RecoveryConfig;
  scheduler: SchedulerConfig;
  transport: TransportConfig;
  reports: ReportConfig;
}

/** What is wrong with one environment variable, for a caller that words it in the reader's language (`config.<key>`). */
export interface VariableProblem {
  variable: string;
  key: 'empty' | 'invalidUrl' | 'notHttpUrl' | 'notIp' | 'cannotRead' | 'type' | 'minimum' | 'maximum' | 'oneOf' | 'pattern' | 'minLength';
  params: Readonly<Record<string, string | number>>;
  /** The English wording, as in the error's message. */
  message: string;
}

/** What is wrong at one place of a configuration file (the carriers YAML), worded by the caller (`config.<key>`). */
export interface FileProblem {
  file: string;
  /** Dotted path in the document (`carriers.viettel.binds[0].port`), or `line L, column C` for a syntax error. */
  path: string;
  key: 'yamlSyntax' | 'unsetReference' | 'missingCarrier' | 'unknownField' | 'required' | 'type' | 'minimum' | 'maximum' | 'oneOf' | 'pattern' | 'minLength' | 'maxLength' | 'invalid';
  params: Readonly<Record<string, string | number>>;
  /** The English wording, as in the error's message. */
  message: string;
}

export type ConfigProblem = VariableProblem | FileProblem | string;

/**
 * A configuration mistake: the message names the variable or YAML path, one line per problem.
 * `problems` holds each as a VariableProblem or FileProblem (worded in the reader's language by the CLI).
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: ReadonlyArray<ConfigProblem>;
  constructor(problems: string | ReadonlyArray<ConfigProblem>) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.map((problem) => (typeof problem === 'string' ? problem : problem.message)).join('\n'));
    this.problems = list;
  }
}

function variableProblem(variable: string, key: VariableProblem['key'], params: VariableProblem['params'], detail: string): VariableProblem {
  return { variable, key, params, message: `environment variable ${variable}: ${detail}` };
}

/** ajv's errors on the environment as VariableProblems. */
function envProblems(errors: readonly ErrorObject[]): VariableProblem[] {
  return errors.map((error) => {
    const variable = jsonPointerToPath(error.instancePath);
    const params = error.params as Record<string, unknown>;
    const detail = `${error.message ?? 'is invalid'}${error.keyword === 'enum' ? ` (${(params.allowedValues as unknown[]).join(', ')})` : ''}`;
    switch (error.keyword) {
      case 'enum':
        return variableProblem(variable, 'oneOf', { values: (params.allowedValues as unknown[]).join(', ') }, detail);
      case 'type':
        return variableProblem(variable, 'type', { type: String(params.type) }, detail);
      case 'minimum':
      case 'maximum':
        return variableProblem(variable, error.keyword, { limit: Number(params.limit) }, detail);
      case 'pattern':
        return variableProblem(variable, 'pattern', { pattern: String(params.pattern) }, detail);
      default:
        return variableProblem(variable, 'minLength', { limit: Number(params.limit ?? 1) }, detail);
    }
  });
}

const envProperties = {
  DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', default: 'postgres://localhost:5432/loa' },
  REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
  LOA_REDIS_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9:_-]+$', default: 'loa' },
  HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
  PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
  LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  LOG_FORMAT: { enum: ['json', 'pretty'], default: 'json' },
  LOA_CARRIERS: { type: 'string', minLength: 1 },
  LOA_SIM_PORT: { type: 'integer', minimum: 1, maximum: 65533, default: 2775 },
  LOA_WORKER_MAX_BINDS: { type: 'integer', minimum: 1, maximum: 64 },
  LOA_SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 8000 },
  LOA_IMPORT_MAX_BYTES: { type: 'integer', minimum: 1, default: 1024 ** 3 },
  LOA_SCREENS_MAX_WAIT_SECONDS: { type: 'integer', minimum: 1, maximum: 600, default: 60 },
  LOA_RATE_LIMIT_MAX: { type: 'integer', minimum: 1, default: 600 },
  LOA_RATE_LIMIT_SCREEN_MAX: { type: 'integer', minimum: 1, default: 120 },
  LOA_RATE_LIMIT_WINDOW_MS: { type: 'integer', minimum: 1000, maximum: 86400000, default: 60000 },
  LOA_MAX_PARTS: { type: 'integer', minimum: 1, maximum: MAX_PARTS, default: DEFAULT_MAX_PARTS },
  LOA_RECEIPT_WINDOW_HOURS: { type: 'integer', minimum: 1, maximum: 24 * 90, default: 168 },
  LOA_RETENTION_DAYS: { type: 'integer', minimum: 0, maximum: 36_500, default: 90 },
  LOA_AUDIO_RETENTION_DAYS: { type: 'integer', minimum: 0, maximum: 36_500, default: 30 },
  LOA_ALERT_WEBHOOK: { type: 'string', pattern: '^https?://' },
  LOA_WORKER_LEASE_MS: { type: 'integer', minimum: 300, default: 30_000 },
  LOA_RECONCILE_EVERY_MS: { type: 'integer', minimum: 100, default: 15_000 },
  LOA_SCHEDULER_LEASE_MS: { type: 'integer', minimum: 100, default: 15_000 },
  LOA_SCHEDULER_TICK_MS: { type: 'integer', minimum: 10, default: 1000 },
  LOA_SCHEDULER_LOOKBACK_MS: { type: 'integer', minimum: 0, default: 86_400_000 },
  LOA_SMPP_RESPONSE_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 10_000 },
  LOA_SMPP_PROBE_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 3_000 },
  LOA_NO_BIND_PAUSE_MS: { type: 'integer', minimum: 100, default: 300_000 },
  LOA_SYSTEM_ERROR_LIMIT: { type: 'integer', minimum: 1, default: 50 },
  // The daily report's e-mail (loadReportConfig).
  LOA_REPORT_TIME: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', default: '15:00' },
  LOA_REPORT_TIME_ZONE: { type: 'string', minLength: 1, default: 'Asia/Ho_Chi_Minh' },
  LOA_REPORT_AREAS: { type: 'string', pattern: '^\\s*[A-Za-z0-9:_-]+(\\s*,\\s*[A-Za-z0-9:_-]+)*\\s*$' },
  LOA_REPORT_RECIPIENTS: { type: 'string', pattern: '^\\s*[^\\s@,]+@[^\\s@,]+(\\s*,\\s*[^\\s@,]+@[^\\s@,]+)*\\s*$' },
  LOA_REPORT_FROM: { type: 'string', minLength: 3, default: 'Loa <loa@localhost>' },
  LOA_REPORT_LANG: { enum: ['vi', 'en'], default: 'vi' },
  LOA_REPORT_ORGANISATION: { type: 'string', minLength: 1 },
  LOA_REPORT_COMPILER_NAME: { type: 'string', minLength: 1 },
  LOA_REPORT_COMPILER_PHONE: { type: 'string', minLength: 1 },
  LOA_REPORT_RETRY_MS: { type: 'integer', minimum: 1000, default: 300_000 },
  LOA_SMTP_URL: { type: 'string', pattern: '^smtps?://' },
} as const;

type EnvName = keyof typeof envProperties;

interface EnvVars {
  DATABASE_URL: string;
  REDIS_URL: string;
  LOA_REDIS_PREFIX: string;
  HOST: string;
  PORT: number;
  LOG_LEVEL: string;
  LOG_FORMAT: LogFormat;
  LOA_CARRIERS?: string;
  LOA_SIM_PORT: number;
  LOA_WORKER_MAX_BINDS?: number;
  LOA_SHUTDOWN_TIMEOUT_MS: number;
  LOA_IMPORT_MAX_BYTES: number;
  LOA_SCREENS_MAX_WAIT_SECONDS: number;
  LOA_RATE_LIMIT_MAX: number;
  LOA_RATE_LIMIT_SCREEN_MAX: number;
  LOA_RATE_LIMIT_WINDOW_MS: number;
  LOA_MAX_PARTS: number;
  LOA_RECEIPT_WINDOW_HOURS: number;
  LOA_RETENTION_DAYS: number;
  LOA_AUDIO_RETENTION_DAYS: number;
  LOA_ALERT_WEBHOOK?: string;
  LOA_WORKER_LEASE_MS: number;
  LOA_RECONCILE_EVERY_MS: number;
  LOA_SCHEDULER_LEASE_MS: number;
  LOA_SCHEDULER_TICK_MS: number;
  LOA_SCHEDULER_LOOKBACK_MS: number;
  LOA_SMPP_RESPONSE_TIMEOUT_MS: number;
  LOA_SMPP_PROBE_TIMEOUT_MS: number;
  LOA_NO_BIND_PAUSE_MS: number;
  LOA_SYSTEM_ERROR_LIMIT: number;
  LOA_REPORT_TIME: string;
  LOA_REPORT_TIME_ZONE: string;
  LOA_REPORT_AREAS?: string;
  LOA_REPORT_RECIPIENTS?: string;
  LOA_REPORT_FROM: string;
  LOA_REPORT_LANG: Language;
  LOA_REPORT_ORGANISATION?: string;
  LOA_REPORT_COMPILER_NAME?: string;
  LOA_REPORT_COMPILER_PHONE?: string;
  LOA_REPORT_RETRY_MS: number;
  LOA_SMTP_URL?: string;
}

/** Variables where an empty value is a mistake, not "unset": `LOA_REDIS_PREFIX=` would share the default prefix. */
const EMPTY_IS_AN_ERROR: ReadonlySet<EnvName> = new Set(['LOA_REDIS_PREFIX']);

const bindSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'systemId', 'password'],
  properties: {
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    // SMPP 3.4 §5.2.1: system_id is a C-Octet String of at most 16 octets, password at most 9.
    systemId: { type: 'string', minLength: 1, maxLength: 15 },
    password: { type: 'string', maxLength: 8 },
    count: { type: 'integer', minimum: 1, maximum: 64, description: 'binds allowed at this endpoint; default: the carrier profile’s maxBinds split over the endpoints' },
  },
} as const;

const carrierSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['binds', 'tps'],
  properties: {
    binds: { type: 'array', minItems: 1, items: bindSchema },
    systemType: { type: 'string', maxLength: 12, default: '' },
    tps: { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
    window: { type: 'integer', minimum: 1, maximum: 1000 },
    bindMode: { enum: ['transceiver', 'transmitter+receiver'] },
    messageId: {
      type: 'object',
      additionalProperties: false,
      required: ['submit', 'receipt'],
      properties: { submit: { enum: ['dec', 'hex'] }, receipt: { enum: ['dec', 'hex'] } },
    },
  },
} as const;

const carriersFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['carriers'],
  properties: {
    carriers: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: Object.fromEntries(CARRIER_IDS.map((id) => [id, carrierSchema])),
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: true });
const validateCarriersFile = ajv.compile(carriersFileSchema);

/** `/carriers/viettel/binds/0/port` → `carriers.viettel.binds[0].port` */
export function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function fileProblem(file: string, path: string, key: FileProblem['key'], params: FileProblem['params'], detail: string): FileProblem {
  return { file, path, key, params, message: `${file}: ${path}: ${detail}` };
}

/** ajv's errors on a configuration file as FileProblems, worded like the environment's. */
function schemaProblems(file: string, errors: readonly ErrorObject[]): FileProblem[] {
  return errors.map((error) => {
    const path = jsonPointerToPath(error.instancePath) || '(root)';
    const params = error.params as Record<string, unknown>;
    const detail = error.message ?? 'is invalid';
    switch (error.keyword) {
      case 'additionalProperties':
        return fileProblem(file, path, 'unknownField', { field: String(params.additionalProperty) }, `${detail} '${String(params.additionalProperty)}'`);
      case 'required':
        return fileProblem(file, path, 'required', { field: String(params.missingProperty) }, detail);
      case 'enum': {
        const values = (params.allowedValues as unknown[]).join(', ');
        return fileProblem(file, path, 'oneOf', { values }, `${detail} (${values})`);
      }
      case 'type':
        return fileProblem(file, path, 'type', { type: String(params.type) }, detail);
      case 'minimum':
      case 'exclusiveMinimum':
        return fileProblem(file, path, 'minimum', { limit: Number(params.limit) }, detail);
      case 'maximum':
        return fileProblem(file, path, 'maximum', { limit: Number(params.limit) }, detail);
      case 'pattern':
        return fileProblem(file, path, 'pattern', { pattern: String(params.pattern) }, detail);
      case 'minLength':
      case 'minItems':
      case 'minProperties':
        return fileProblem(file, path, 'minLength', { limit: Number(params.limit) }, detail);
      case 'maxLength':
        return fileProblem(file, path, 'maxLength', { limit: Number(params.limit) }, detail);
      default:
        return fileProblem(file, path, 'invalid', { detail }, detail);
    }
  });
}

/**
 * `${NAME}` in the carriers YAML is taken from the environment, so passwords stay out of files.
 * References become private-use markers (valid in any YAML scalar, even unquoted in a flow map)
 * before parsing and are replaced in the parsed string values after it: a secret is never re-read
 * as YAML (`0123` stays `0123`), never quoted in a parse error, and comments are left alone.
 */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const ENV_MARKER = /\uE000([A-Za-z_][A-Za-z0-9_]*)\uE001/g;

function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, file: string, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_MARKER, (_, name: string) => {
      const replacement = env[name];
      if (replacement === undefined) throw new ConfigError([fileProblem(file, path, 'unsetReference', { name }, `environment variable ${name} is referenced but not set`)]);
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, file, `${path}[${index}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, file, path ? `${path}.${key}` : key)]));
  }
  return value;
}

/**
 * The YAML failsafe schema reads every scalar as a string, so an unquoted `password: 0123` stays
 * `0123`; the JSON Schema then converts the fields it declares numeric. Parse errors name line and
 * column without quoting the line (it may hold a secret).
 */
export function parseCarriersYaml(text: string, file: string, env: NodeJS.ProcessEnv): Record<CarrierId, CarrierConfig> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(ENV_REFERENCE, '\uE000$1\uE001'), { schema: 'failsafe', prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        // The parser's own text names what it expected; it never quotes the line (it may hold a secret).
        return fileProblem(file, `line ${line}, column ${col}`, 'yamlSyntax', { line, column: col, detail: e.code }, e.message);
      }),
    );
  }
  const data = substituteEnv(doc.toJS(), env, file, '');
  if (!validateCarriersFile(data)) throw new ConfigError(schemaProblems(file, validateCarriersFile.errors ?? []));
  const carriers = (data as { carriers: Partial<Record<CarrierId, CarrierYaml>> }).carriers;
  const missing = CARRIER_IDS.filter((id) => !carriers[id]);
  if (missing.length > 0) {
    const all = CARRIER_IDS.join(', ');
    throw new ConfigError(missing.map((id) => fileProblem(file, `carriers.${id}`, 'missingCarrier', { carriers: all }, `is required (Loa sends through ${all})`)));
  }
  return Object.fromEntries(CARRIER_IDS.map((id) => [id, withProfileDefaults(id, carriers[id]!)])) as Record<CarrierId, CarrierConfig>;
}

type CarrierYaml = Omit<CarrierConfig, 'id' | 'binds' | 'window' | 'bindMode' | 'messageId'> &
  Partial<Pick<CarrierConfig, 'window' | 'bindMode' | 'messageId'>> & { binds: Array<Omit<BindEndpoint, 'count'> & { count?: number }> };

/** What the carriers file leaves out comes from the carrier's profile (adapters/carriers). */
function withProfileDefaults(id: CarrierId, carrier: CarrierYaml): CarrierConfig {
  const defaults = CARRIER_PROFILES[id].defaults;
  const countPerEndpoint = Math.max(1, Math.floor(defaults.maxBinds / carrier.binds.length));
  return {
    ...carrier,
    id,
    window: carrier.window ?? defaults.window,
    bindMode: carrier.bindMode ?? defaults.bindMode,
    messageId: carrier.messageId ?? defaults.messageId,
    binds: carrier.binds.map((bind) => ({ ...bind, count: bind.count ?? countPerEndpoint })),
  };
}

/** Credentials of the built-in simulated SMSCs; they are not secrets, the simulator only listens on loopback. */
export const SIMULATOR_PASSWORD = 'loa-sim';

export function simulatorCarriers(basePort: number): Record<CarrierId, CarrierConfig> {
  return Object.fromEntries(
    CARRIER_IDS.map((id, index): [CarrierId, CarrierConfig] => {
      const defaults = CARRIER_PROFILES[id].defaults;
      return [
        id,
        {
          id,
          binds: [{ host: '127.0.0.1', port: basePort + index, systemId: `loa-${id}`, password: SIMULATOR_PASSWORD, count: defaults.maxBinds }],
          systemType: '',
          tps: defaults.tps,
          window: defaults.window,
          bindMode: defaults.bindMode,
          messageId: defaults.messageId,
        },
      ];
    }),
  ) as Record<CarrierId, CarrierConfig>;
}

/**
 * libpq connects as the operating-system user when the URL names none; node-postgres only reads
 * $USER, which services and CI often lack. Do what libpq does so the default URL works everywhere.
 */
function withDefaultUser(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.username) return databaseUrl;
  try {
    url.username = userInfo().username;
  } catch {
    // A container user with no passwd entry: PostgreSQL images name their superuser `postgres`.
    url.username = 'postgres';
  }
  return url.toString();
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const envValidators = new Map<string, ReturnType<typeof ajv.compile>>();

/**
 * The variables `names` from `env`, validated and converted by their part of the schema; a command
 * reads only what it needs, so a broken LOA_CARRIERS never stops `loa migrate`. Every bad variable
 * is reported at once.
 */
function readEnv<K extends EnvName>(env: NodeJS.ProcessEnv, names: readonly K[]): Pick<EnvVars, K> {
  const key = names.join(',');
  let validate = envValidators.get(key);
  if (!validate) {
    validate = ajv.compile({ type: 'object', properties: Object.fromEntries(names.map((name) => [name, envProperties[name]])) });
    envValidators.set(key, validate);
  }
  const raw: Record<string, unknown> = {};
  const empty: VariableProblem[] = [];
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() === '' && EMPTY_IS_AN_ERROR.has(name)) empty.push(variableProblem(name, 'empty', {}, 'is set but empty; unset it for the default or give a value'));
    else if (value !== undefined && value !== '') raw[name] = value;
  }
  const problems = validate(raw) ? [] : envProblems(validate.errors ?? []);
  if (empty.length > 0 || problems.length > 0) throw new ConfigError([...empty, ...problems]);
  return raw as Pick<EnvVars, K>;
}

/** A URL's text without its password, for messages. */
function withoutPassword(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/** DATABASE_URL, checked to be a URL node-postgres can use (a bad port is a TypeError deep inside pg otherwise). */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const { DATABASE_URL } = readEnv(env, ['DATABASE_URL']);
  let url: URL;
  try {
    url = new URL(DATABASE_URL);
  } catch {
    url = new URL('invalid:');
  }
  if (!url.protocol.startsWith('postgres') || !url.hostname) {
    const value = withoutPassword(DATABASE_URL);
    const example = 'postgres://user@host:5432/database';
    throw new ConfigError([variableProblem('DATABASE_URL', 'invalidUrl', { value, example }, `'${value}' is not a valid URL (check the host and a port 1–65535), e.g. ${example}`)]);
  }
  return { databaseUrl: withDefaultUser(DATABASE_URL) };
}

export function loadRedisConfig(env: NodeJS.ProcessEnv = process.env): RedisConfig {
  const vars = readEnv(env, ['REDIS_URL', 'LOA_REDIS_PREFIX']);
  try {
    new URL(vars.REDIS_URL);
  } catch {
    const value = withoutPassword(vars.REDIS_URL);
    const example = 'redis://127.0.0.1:6379';
    throw new ConfigError([variableProblem('REDIS_URL', 'invalidUrl', { value, example }, `'${value}' is not a valid URL (check the host and a port 1–65535), e.g. ${example}`)]);
  }
  return { redisUrl: vars.REDIS_URL, redisPrefix: vars.LOA_REDIS_PREFIX };
}

export function loadHttpConfig(env: NodeJS.ProcessEnv = process.env): HttpConfig {
  const vars = readEnv(env, ['HOST', 'PORT', 'LOA_IMPORT_MAX_BYTES', 'LOA_SCREENS_MAX_WAIT_SECONDS', 'LOA_RATE_LIMIT_MAX', 'LOA_RATE_LIMIT_SCREEN_MAX', 'LOA_RATE_LIMIT_WINDOW_MS']);
  // Digits and dots only must be an IPv4 address; `999.1.1.1` would fail later as an unknown host.
  if (/^[\d.]+$/.test(vars.HOST) && isIP(vars.HOST) === 0) throw new ConfigError([variableProblem('HOST', 'notIp', { value: vars.HOST }, `'${vars.HOST}' is not an IP address (e.g. 0.0.0.0 or 127.0.0.1)`)]);
  return {
    host: vars.HOST,
    port: vars.PORT,
    importMaxBytes: vars.LOA_IMPORT_MAX_BYTES,
    screensMaxWaitSeconds: vars.LOA_SCREENS_MAX_WAIT_SECONDS,
    rateLimit: { max: vars.LOA_RATE_LIMIT_MAX, screenMax: vars.LOA_RATE_LIMIT_SCREEN_MAX, windowMs: vars.LOA_RATE_LIMIT_WINDOW_MS },
  };
}

export function loadLogConfig(env: NodeJS.ProcessEnv = process.env): LogConfig {
  const vars = readEnv(env, ['LOG_LEVEL', 'LOG_FORMAT']);
  return { logLevel: vars.LOG_LEVEL, logFormat: vars.LOG_FORMAT };
}

/** LOA_SIM_PORT alone: `loa sim` needs nothing of the carriers file. */
export function loadSimulatorPort(env: NodeJS.ProcessEnv = process.env): number {
  return readEnv(env, ['LOA_SIM_PORT']).LOA_SIM_PORT;
}

export function loadCampaignRules(env: NodeJS.ProcessEnv = process.env): CampaignRules {
  return { maxParts: readEnv(env, ['LOA_MAX_PARTS']).LOA_MAX_PARTS };
}

/** The carriers YAML LOA_CARRIERS names, or the built-in simulated SMSCs on LOA_SIM_PORT. */
export function loadCarriersConfig(env: NodeJS.ProcessEnv = process.env): CarriersConfig {
  const vars = readEnv(env, ['LOA_CARRIERS', 'LOA_SIM_PORT', 'LOA_WORKER_MAX_BINDS']);
  let carriers: Record<CarrierId, CarrierConfig>;
  if (vars.LOA_CARRIERS) {
    let text: string;
    try {
      text = readFileSync(vars.LOA_CARRIERS, 'utf8');
    } catch (error) {
      const reason = (error as Error).message;
      throw new ConfigError([variableProblem('LOA_CARRIERS', 'cannotRead', { file: vars.LOA_CARRIERS, reason }, `cannot read ${vars.LOA_CARRIERS}: ${reason}`)]);
    }
    carriers = parseCarriersYaml(text, vars.LOA_CARRIERS, env);
  } else {
    carriers = simulatorCarriers(vars.LOA_SIM_PORT);
  }
  return deepFreeze({ carriersSource: vars.LOA_CARRIERS ? 'file' : 'simulator', simulatorPort: vars.LOA_SIM_PORT, workerMaxBinds: vars.LOA_WORKER_MAX_BINDS ?? null, carriers });
}

/** Parse the whole environment (and the carriers YAML it names) once, into a frozen, typed object: what a service process needs. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Every part is read even when an earlier one fails, so one run reports every bad variable.
  const problems: ConfigProblem[] = [];
  const part = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const database = part(() => loadDatabaseConfig(env));
  const redis = part(() => loadRedisConfig(env));
  const http = part(() => loadHttpConfig(env));
  const log = part(() => loadLogConfig(env));
  const rules = part(() => loadCampaignRules(env));
  const shutdown = part(() => readEnv(env, ['LOA_SHUTDOWN_TIMEOUT_MS']));
  const carriers = part(() => loadCarriersConfig(env));
  const receipts = part(() => loadReceiptConfig(env));
  const scheduler = part(() => loadSchedulerConfig(env));
  const transport = part(() => loadTransportConfig(env));
  const reports = part(() => loadReportConfig(env));
  const recovery = part(() => loadRecoveryConfig(env));
  if (!database || !redis || !http || !log || !rules || !shutdown || !carriers || !receipts || !scheduler || !transport || !reports || !recovery) throw new ConfigError(problems);
  return deepFreeze({ ...database, ...redis, ...http, ...log, ...rules, ...carriers, shutdownTimeoutMs: shutdown.LOA_SHUTDOWN_TIMEOUT_MS, receipts, scheduler, transport, reports, recovery });
}

/** The language a person reads (LOA_LANG, else LANG, else Vietnamese): all a command that only prints needs. */
export function loadLanguage(env: NodeJS.ProcessEnv = process.env): Language {
  return pickLanguage(env);
}

/** What a `loa` command that talks to the service needs, and the language a person reads. */
export interface CliSettings {
  language: Language;
  /** LOA_URL, default http://127.0.0.1:8080. */
  apiUrl: string;
  /** LOA_TOKEN: an API key from `loa keys create`. */
  apiToken: string | undefined;
}

/** Reads only LOA_LANG/LANG, LOA_URL and LOA_TOKEN: a broken LOA_CARRIERS never stops a CLI command. */
export function loadCliSettings(env: NodeJS.ProcessEnv = process.env): CliSettings {
  const apiUrl = env.LOA_URL?.trim() || 'http://127.0.0.1:8080';
  try {
    const parsed = new URL(apiUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError([variableProblem('LOA_URL', 'notHttpUrl', { value: apiUrl, example: 'http://127.0.0.1:8080' }, `'${apiUrl}' is not an http(s) URL, e.g. http://127.0.0.1:8080`)]);
  }
  return { language: pickLanguage(env), apiUrl: apiUrl.replace(/\/+$/, ''), apiToken: env.LOA_TOKEN?.trim() || undefined };
}

/** The receipt path's retention (README, Retention). */
export interface ReceiptConfig {
  /**
   * LOA_RECEIPT_WINDOW_HOURS (default 168): how long after its submission a segment can take a
   * receipt, and a receipt stays parked before it is kept as unmatched. Longer than any campaign
   * validity; segments and parked receipts older than it are dropped by day.
   */
  windowMs: number;
  /** LOA_RETENTION_DAYS (default 90; 0 keeps them): a finished run's messages, phone numbers included, are dropped this long after it ended. */
  retentionDays: number | null;
  /** LOA_AUDIO_RETENTION_DAYS (default 30; 0 keeps them): loudspeaker audio no valid broadcast uses loses its sound this long after its last use. */
  audioRetentionDays: number | null;
}

export function loadReceiptConfig(env: NodeJS.ProcessEnv = process.env): ReceiptConfig {
  const vars = readEnv(env, ['LOA_RECEIPT_WINDOW_HOURS', 'LOA_RETENTION_DAYS', 'LOA_AUDIO_RETENTION_DAYS']);
  return {
    windowMs: vars.LOA_RECEIPT_WINDOW_HOURS * 3_600_000,
    retentionDays: vars.LOA_RETENTION_DAYS === 0 ? null : vars.LOA_RETENTION_DAYS,
    audioRetentionDays: vars.LOA_AUDIO_RETENTION_DAYS === 0 ? null : vars.LOA_AUDIO_RETENTION_DAYS,
  };
}

/** How long an SMSC may fail before Loa acts (README, Carriers under failure). */
export interface TransportConfig {
  /** LOA_SMPP_RESPONSE_TIMEOUT_MS (default 10000): submit_sm → submit_sm_resp; past it the PDU is ambiguous. */
  submitResponseMs: number;
  /** LOA_SMPP_PROBE_TIMEOUT_MS (default 3000): after a response timeout, the enquire_link probe's answer time; unanswered, the bind is dropped and made again. */
  probeResponseMs: number;
  /** LOA_NO_BIND_PAUSE_MS (default 300000): a carrier with no bind this long pauses its sending runs, with the reason. */
  noBindPauseMs: number;
  /** LOA_SYSTEM_ERROR_LIMIT (default 50): ESME_RSYSERR answers in a row that pause the carrier's sending runs. */
  systemErrorLimit: number;
}

export function loadTransportConfig(env: NodeJS.ProcessEnv = process.env): TransportConfig {
  const vars = readEnv(env, ['LOA_SMPP_RESPONSE_TIMEOUT_MS', 'LOA_SMPP_PROBE_TIMEOUT_MS', 'LOA_NO_BIND_PAUSE_MS', 'LOA_SYSTEM_ERROR_LIMIT']);
  return {
    submitResponseMs: vars.LOA_SMPP_RESPONSE_TIMEOUT_MS,
    probeResponseMs: vars.LOA_SMPP_PROBE_TIMEOUT_MS,
    noBindPauseMs: vars.LOA_NO_BIND_PAUSE_MS,
    systemErrorLimit: vars.LOA_SYSTEM_ERROR_LIMIT,
  };
}

/** The scheduler role and run control's alerts (README, Scheduler and run control). */
export interface SchedulerConfig {
  /** LOA_ALERT_WEBHOOK: a URL that gets a JSON POST when a run pauses by itself; none when unset. */
  alertWebhook: string | null;
  /** LOA_SCHEDULER_LEASE_MS (default 15000): a leader that stops renewing is replaced after this long. */
  leaseMs: number;
  /** LOA_SCHEDULER_TICK_MS (default 1000): how often the scheduler looks at schedules, due runs and quiet hours. */
  tickMs: number;
  /** LOA_SCHEDULER_LOOKBACK_MS (default 24 h): how far back a (re)started scheduler looks for undecided occurrences. */
  lookbackMs: number;
}

export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  const vars = readEnv(env, ['LOA_ALERT_WEBHOOK', 'LOA_SCHEDULER_LEASE_MS', 'LOA_SCHEDULER_TICK_MS', 'LOA_SCHEDULER_LOOKBACK_MS']);
  return { alertWebhook: vars.LOA_ALERT_WEBHOOK ?? null, leaseMs: vars.LOA_SCHEDULER_LEASE_MS, tickMs: vars.LOA_SCHEDULER_TICK_MS, lookbackMs: vars.LOA_SCHEDULER_LOOKBACK_MS };
}

/** The daily quick report (issue 12): its defaults and its scheduled e-mail (README, Reports). */
export interface ReportConfig {
  /** LOA_REPORT_TIME (default 15:00) in LOA_REPORT_TIME_ZONE (default Asia/Ho_Chi_Minh): when the day's report is e-mailed. */
  time: { hour: number; minute: number };
  timeZone: string;
  /** LOA_REPORT_AREAS: the areas whose report is e-mailed (`province:92`, `group:ninh-kieu`, `all`); none: no e-mail. */
  areas: string[];
  /** LOA_REPORT_RECIPIENTS: comma-separated addresses. */
  recipients: string[];
  /** LOA_SMTP_URL: `smtp(s)://user:password@host:port`; needed when areas are set. Never logged. */
  smtpUrl: string | null;
  from: string;
  language: Language;
  /** Defaults for the report's heading and signature when an area group names none. */
  organisation: string | null;
  compilerName: string | null;
  compilerPhone: string | null;
  /** LOA_REPORT_RETRY_MS (default 5 min): wait before a failed send is tried again. */
  retryMs: number;
}

export function loadReportConfig(env: NodeJS.ProcessEnv = process.env): ReportConfig {
  const vars = readEnv(env, [
    'LOA_REPORT_TIME', 'LOA_REPORT_TIME_ZONE', 'LOA_REPORT_AREAS', 'LOA_REPORT_RECIPIENTS', 'LOA_REPORT_FROM', 'LOA_REPORT_LANG',
    'LOA_REPORT_ORGANISATION', 'LOA_REPORT_COMPILER_NAME', 'LOA_REPORT_COMPILER_PHONE', 'LOA_REPORT_RETRY_MS', 'LOA_SMTP_URL',
  ]);
  const list = (text: string | undefined) => (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  const areas = list(vars.LOA_REPORT_AREAS);
  const recipients = list(vars.LOA_REPORT_RECIPIENTS);
  const problems: VariableProblem[] = [];
  if (areas.length > 0 && recipients.length === 0) problems.push(variableProblem('LOA_REPORT_RECIPIENTS', 'empty', {}, 'is needed when LOA_REPORT_AREAS is set (who gets the daily report)'));
  if (areas.length > 0 && !vars.LOA_SMTP_URL) problems.push(variableProblem('LOA_SMTP_URL', 'empty', {}, 'is needed when LOA_REPORT_AREAS is set (the SMTP server that sends the daily report)'));
  try {
    new Intl.DateTimeFormat('en', { timeZone: vars.LOA_REPORT_TIME_ZONE });
  } catch {
    problems.push(variableProblem('LOA_REPORT_TIME_ZONE', 'pattern', { pattern: 'Area/City' }, `'${vars.LOA_REPORT_TIME_ZONE}' is not a time zone (e.g. Asia/Ho_Chi_Minh)`));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const [hour, minute] = vars.LOA_REPORT_TIME.split(':').map(Number) as [number, number];
  return {
    time: { hour, minute },
    timeZone: vars.LOA_REPORT_TIME_ZONE,
    areas,
    recipients,
    smtpUrl: vars.LOA_SMTP_URL ?? null,
    from: vars.LOA_REPORT_FROM,
    language: vars.LOA_REPORT_LANG,
    organisation: vars.LOA_REPORT_ORGANISATION ?? null,
    compilerName: vars.LOA_REPORT_COMPILER_NAME ?? null,
    compilerPhone: vars.LOA_REPORT_COMPILER_PHONE ?? null,
    retryMs: vars.LOA_REPORT_RETRY_MS,
  };
}

/** How a worker's failures are recovered from (issue 9, item 4): src/jobs/reconciler.ts. */
export interface RecoveryConfig {
  /** LOA_WORKER_LEASE_MS (default 30000): a worker that stops renewing its lease is taken for dead after this long, and its `submitting` rows decided. */
  workerLeaseMs: number;
  /** LOA_RECONCILE_EVERY_MS (default 15000): how often the reconciler decides orphaned rows and looks for stalled runs. */
  reconcileEveryMs: number;
}

export function loadRecoveryConfig(env: NodeJS.ProcessEnv = process.env): RecoveryConfig {
  const vars = readEnv(env, ['LOA_WORKER_LEASE_MS', 'LOA_RECONCILE_EVERY_MS']);
  return { workerLeaseMs: vars.LOA_WORKER_LEASE_MS, reconcileEveryMs: vars.LOA_RECONCILE_EVERY_MS };
}
