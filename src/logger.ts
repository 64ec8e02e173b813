import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

const SECRET_KEYS = ['password', 'token', 'apiKey', 'secret', 'authorization', 'keyHash', 'tokenHash', 'smtpUrl'];

/** Paths down to five levels (pino paths have no `**`): `bind.password`, `config.carriers.viettel.binds[0].password`. */
function pathsFor(keys: string[]): string[] {
  return keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`, `*.*.*.*.${key}`, `*.*.*.*.*.${key}`]);
}

/**
 * Vietnamese mobile numbers as Loa stores them (84 + 9 digits) or as people write them
 * (0 + 9 digits, 0 + 10 before 2018), not inside a longer run of digits (timestamps, ids).
 */
const PHONE_NUMBER = /(?<!\d)(?:84\d{9}|0\d{9,10})(?!\d)/g;

/** All but the last 3 digits of a phone number are hidden (CONVENTIONS.md, Logs). */
export function maskPhone(value: unknown): string {
  const text = String(value);
  return text.length <= 3 ? '***' : `${'*'.repeat(text.length - 3)}${text.slice(-3)}`;
}

/**
 * Secrets are removed by key; phone numbers are masked in the finished line, wherever they are
 * (a field, an array, a PostgreSQL error detail, a message), so no code path can forget them.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format: 'json' | 'pretty' = 'json'): Logger {
  // LOG_FORMAT=pretty: the same JSON line (already masked by the hook below) made readable, one
  // line per entry in the machine's local time; JSON stays the default for log collectors.
  const stream =
    format === 'pretty'
      ? pinoPretty({
          destination: (destination as NodeJS.WritableStream | undefined) ?? 1,
          sync: true,
          colorize: false,
          singleLine: true,
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
          ignore: 'pid,hostname,service',
        })
      : destination;
  return pino(
    {
      level,
      base: { service: 'loa' },
      redact: { paths: [...pathsFor(SECRET_KEYS), 'req.headers["x-screen-token"]'], censor: '[redacted]' },
      hooks: { streamWrite: (line) => line.replace(PHONE_NUMBER, maskPhone) },
    },
    stream,
  );
}
