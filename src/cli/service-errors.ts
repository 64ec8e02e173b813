import type { Translate } from '../i18n/index.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * The commonest first-run failures (issue 7, item 3) as one line that names the variable or flag
 * and says what to do: a service down, a database missing, a port in use. Anything else is
 * returned as it is.
 */
export interface ServiceContext {
  /** DATABASE_URL, when the command talks to PostgreSQL. */
  databaseUrl?: string;
  /** REDIS_URL, when it talks to Redis. */
  redisUrl?: string;
  /** Ports the command listens on and the setting that chose each (PORT, LOA_SIM_PORT, --port …). */
  listens?: ReadonlyArray<{ host: string; hostSetting: string; port: number; count?: number; setting: string }>;
}

interface SystemError {
  code?: string;
  /** getaddrinfo failures name the host they could not resolve. */
  hostname?: string;
  port?: number;
  address?: string;
  message?: string;
  cause?: unknown;
  errors?: unknown[];
}

/** The first error in the cause chain (or an AggregateError's members) that has a code. */
function withCode(error: unknown, depth = 0): SystemError | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const e = error as SystemError;
  if (typeof e.code === 'string') return e;
  for (const inner of [e.cause, ...(e.errors ?? [])]) {
    const found = withCode(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** A URL without its password. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

function portOf(url: string): number {
  try {
    const parsed = new URL(url);
    return Number(parsed.port) || (parsed.protocol.startsWith('redis') ? 6379 : 5432);
  } catch {
    return NaN;
  }
}

export function explainServiceError(error: unknown, context: ServiceContext, t: Translate): unknown {
  if (error instanceof CliError) return error;
  const system = withCode(error);
  if (!system) {
    // node-postgres reports its connection timeout as a plain Error.
    if (context.databaseUrl && /timeout|Connection terminated/i.test((error as Error | undefined)?.message ?? '')) {
      return new CliError(t('cli.postgresUnreachable', { url: redactUrl(context.databaseUrl), reason: (error as Error).message }), EXIT.unreachable);
    }
    return error;
  }
  const code = system.code ?? '';

  const unresolvedListenHost = (code === 'ENOTFOUND' || code === 'EAI_AGAIN') && context.listens?.some((l) => l.host === system.hostname);
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES' || unresolvedListenHost) {
    const listen =
      context.listens?.find((l) => (unresolvedListenHost ? l.host === system.hostname : system.port !== undefined && system.port >= l.port && system.port < l.port + (l.count ?? 1))) ??
      context.listens?.[0];
    if (listen) {
      if (code === 'EADDRINUSE') return new CliError(t('cli.portInUse', { port: system.port ?? listen.port, setting: listen.setting }), EXIT.invalidInput);
      return new CliError(t('cli.cannotListen', { host: listen.host, port: system.port ?? listen.port, reason: code, setting: code === 'EACCES' ? listen.setting : listen.hostSetting }), EXIT.invalidInput);
    }
  }

  if (context.databaseUrl) {
    const url = redactUrl(context.databaseUrl);
    if (code === '3D000') {
      const database = decodeURIComponent(new URL(context.databaseUrl).pathname.slice(1));
      return new CliError(t('cli.databaseMissing', { database, url }), EXIT.unreachable);
    }
    if (code === '28P01' || code === '28000') return new CliError(t('cli.postgresRefused', { url, reason: system.message ?? code }), EXIT.refused);
  }
  if (UNREACHABLE.has(code)) {
    const isRedis = context.redisUrl !== undefined && system.port !== undefined && system.port === portOf(context.redisUrl) && system.port !== (context.databaseUrl ? portOf(context.databaseUrl) : NaN);
    if (context.databaseUrl && !isRedis) return new CliError(t('cli.postgresUnreachable', { url: redactUrl(context.databaseUrl), reason: code }), EXIT.unreachable);
    if (context.redisUrl) return new CliError(t('cli.redisUnreachable', { url: redactUrl(context.redisUrl), reason: code }), EXIT.unreachable);
  }
  return error;
}
