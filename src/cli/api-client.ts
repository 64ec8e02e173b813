import type { Readable } from 'node:stream';
import type { CliSettings } from '../config.js';
import type { Translate } from '../i18n/index.js';
import { CliError, EXIT } from './exit-codes.js';

export interface RequestOptions {
  /** JSON-serialised unless it is a string or a stream (sent as is, with `contentType`). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
}

/**
 * The CLI's way to the service (LOA_URL + LOA_TOKEN): every command that reads or changes data
 * goes through the API, so the audit log knows who did it. Failures become CliErrors with the
 * exit code of their cause (unreachable 3, refused 4, invalid input 1).
 */
export class ApiClient {
  constructor(
    private readonly settings: Pick<CliSettings, 'apiUrl' | 'apiToken'>,
    private readonly t: Translate,
  ) {}

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, options);
  }

  put<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, options);
  }

  delete<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    if (!this.settings.apiToken) throw new CliError(this.t('error.noToken'), EXIT.refused);
    const url = new URL(`${this.settings.apiUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.settings.apiToken}`, ...options.headers };
    let body: RequestInit['body'];
    const streamed = isReadable(options.body);
    if (options.body !== undefined) {
      if (typeof options.body === 'string' || streamed) {
        body = options.body as RequestInit['body'];
        headers['content-type'] = options.contentType ?? 'text/plain';
      } else {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, ...(streamed ? { duplex: 'half' } : {}) } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(this.t('error.unreachable', { url: this.settings.apiUrl, reason: cause?.code ?? cause?.message ?? (error as Error).message }), EXIT.unreachable);
    }
    const text = await response.text();
    const payload = text ? safeJson(text) : undefined;
    if (response.ok) return payload as T;
    const message = describeFailure(payload, text);
    if (response.status === 401) throw new CliError(this.t('error.unauthorized'), EXIT.refused);
    if (response.status === 403) throw new CliError(this.t('error.forbidden', { message }), EXIT.refused);
    if (response.status >= 500) throw new CliError(this.t('error.http', { status: response.status, message }), EXIT.unreachable);
    throw new CliError(this.t('error.http', { status: response.status, message }), EXIT.invalidInput, payload);
  }
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The API's error body `{ error, message, details: [{ path, message }] }` as lines a person reads. */
function describeFailure(payload: unknown, text: string): string {
  if (!payload || typeof payload !== 'object') return text.slice(0, 500);
  const { message, details } = payload as { message?: string; details?: Array<{ path?: string; message?: string }> };
  const lines = [message ?? text.slice(0, 500)];
  if (Array.isArray(details)) for (const detail of details.slice(0, 20)) lines.push(`  ${detail.path ?? ''}: ${detail.message ?? ''}`);
  return lines.join('\n');
}
