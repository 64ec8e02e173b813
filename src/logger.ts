import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = ['password', 'token', 'apiKey', 'secret', 'authorization'];
const PHONE_KEYS = ['msisdn', 'destination', 'destination_addr', 'source_addr', 'phone'];

/** Paths to redact at the top level, one level down and two levels down (pino paths have no `**`). */
function pathsFor(keys: string[]): string[] {
  return keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
}

/** All but the last 3 digits of a phone number are hidden (CONVENTIONS.md, Logs). */
export function maskPhone(value: unknown): string {
  const text = String(value);
  return text.length <= 3 ? '***' : `${'*'.repeat(text.length - 3)}${text.slice(-3)}`;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const phonePaths = pathsFor(PHONE_KEYS);
  return pino(
    {
      level,
      base: { service: 'loa' },
      redact: {
        paths: [...pathsFor(SECRET_KEYS), 'req.headers.authorization', 'req.headers["x-screen-token"]', ...phonePaths],
        censor: (value, path) => (PHONE_KEYS.includes(String(path.at(-1))) ? maskPhone(value) : '[redacted]'),
      },
    },
    destination,
  );
}
