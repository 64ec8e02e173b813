import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { CARRIER_PROFILES } from '../adapters/carriers/index.js';
import { CARRIER_IDS, type BindMode, type CarrierId, type MessageIdFormat } from './domain/carrier.js';
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

export interface Config {
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key (BullMQ queues, bind leases); lets test files share one Redis. */
  redisPrefix: string;
  host: string;
  port: number;
  logLevel: string;
  /** `simulator` when LOA_CARRIERS is absent: the process starts simulated SMSCs and binds to them. */
  carriersSource: 'file' | 'simulator';
  /** First port of the built-in simulated SMSCs (one per carrier, consecutive). */
  simulatorPort: number;
  carriers: Readonly<Record<CarrierId, CarrierConfig>>;
  shutdownTimeoutMs: number;
  receipts: ReceiptConfig;
}

/** A configuration mistake: the message names the variable or YAML path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const envSchema = {
  type: 'object',
  properties: {
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', default: 'postgres://localhost:5432/loa' },
    REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
    LOA_REDIS_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9:_-]+$', default: 'loa' },
    HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    LOA_CARRIERS: { type: 'string', minLength: 1 },
    LOA_SIM_PORT: { type: 'integer', minimum: 1, maximum: 65533, default: 2775 },
    LOA_SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 8000 },
  },
} as const;

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
const validateEnv = ajv.compile(envSchema);
const validateCarriersFile = ajv.compile(carriersFileSchema);

/** `/carriers/viettel/binds/0/port` → `carriers.viettel.binds[0].port` */
export function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describeErrors(errors: ErrorObject[], prefix: (path: string) => string): string {
  return errors
    .map((error) => {
      const extra = error.keyword === 'additionalProperties' ? ` '${String(error.params.additionalProperty)}'` : '';
      const allowed = error.keyword === 'enum' ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : '';
      return `${prefix(jsonPointerToPath(error.instancePath))}: ${error.message ?? 'is invalid'}${extra}${allowed}`;
    })
    .join('\n');
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
      if (replacement === undefined) throw new ConfigError(`${file}: ${path}: environment variable ${name} is referenced but not set`);
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
    const where = (offset: number): string => {
      const { line, col } = lineCounter.linePos(offset);
      return `line ${line}, column ${col}`;
    };
    throw new ConfigError(doc.errors.map((e) => `${file}: ${where(e.pos[0])}: ${e.message}`).join('\n'));
  }
  const data = substituteEnv(doc.toJS(), env, file, '');
  if (!validateCarriersFile(data)) {
    throw new ConfigError(describeErrors(validateCarriersFile.errors ?? [], (path) => `${file}: ${path || '(root)'}`));
  }
  const carriers = (data as { carriers: Partial<Record<CarrierId, CarrierYaml>> }).carriers;
  const missing = CARRIER_IDS.filter((id) => !carriers[id]);
  if (missing.length > 0) {
    throw new ConfigError(missing.map((id) => `${file}: carriers.${id}: is required (Loa sends through ${CARRIER_IDS.join(', ')})`).join('\n'));
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

/** Parse the environment (and the carriers YAML it names) once, into a frozen, typed object. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(envSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  if (!validateEnv(raw)) {
    throw new ConfigError(describeErrors(validateEnv.errors ?? [], (path) => `environment variable ${path}`));
  }
  const vars = raw as {
    DATABASE_URL: string;
    REDIS_URL: string;
    LOA_REDIS_PREFIX: string;
    HOST: string;
    PORT: number;
    LOG_LEVEL: string;
    LOA_CARRIERS?: string;
    LOA_SIM_PORT: number;
    LOA_SHUTDOWN_TIMEOUT_MS: number;
  };
  let carriers: Record<CarrierId, CarrierConfig>;
  if (vars.LOA_CARRIERS) {
    let text: string;
    try {
      text = readFileSync(vars.LOA_CARRIERS, 'utf8');
    } catch (error) {
      throw new ConfigError(`environment variable LOA_CARRIERS: cannot read ${vars.LOA_CARRIERS}: ${(error as Error).message}`);
    }
    carriers = parseCarriersYaml(text, vars.LOA_CARRIERS, env);
  } else {
    carriers = simulatorCarriers(vars.LOA_SIM_PORT);
  }
  return deepFreeze({
    databaseUrl: withDefaultUser(vars.DATABASE_URL),
    redisUrl: vars.REDIS_URL,
    redisPrefix: vars.LOA_REDIS_PREFIX,
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    carriersSource: vars.LOA_CARRIERS ? 'file' : 'simulator',
    simulatorPort: vars.LOA_SIM_PORT,
    carriers,
    shutdownTimeoutMs: vars.LOA_SHUTDOWN_TIMEOUT_MS,
    receipts: loadReceiptConfig(env),
  });
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
    throw new ConfigError(`environment variable LOA_URL: '${apiUrl}' is not an http(s) URL, e.g. http://127.0.0.1:8080`);
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
}

const receiptEnvSchema = {
  type: 'object',
  properties: {
    LOA_RECEIPT_WINDOW_HOURS: { type: 'integer', minimum: 1, maximum: 24 * 90, default: 168 },
    LOA_RETENTION_DAYS: { type: 'integer', minimum: 0, maximum: 36_500, default: 90 },
  },
} as const;
const validateReceiptEnv = ajv.compile(receiptEnvSchema);

function loadReceiptConfig(env: NodeJS.ProcessEnv): ReceiptConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(receiptEnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  if (!validateReceiptEnv(raw)) {
    throw new ConfigError(describeErrors(validateReceiptEnv.errors ?? [], (path) => `environment variable ${path}`));
  }
  const vars = raw as { LOA_RECEIPT_WINDOW_HOURS: number; LOA_RETENTION_DAYS: number };
  return { windowMs: vars.LOA_RECEIPT_WINDOW_HOURS * 3_600_000, retentionDays: vars.LOA_RETENTION_DAYS === 0 ? null : vars.LOA_RETENTION_DAYS };
}
