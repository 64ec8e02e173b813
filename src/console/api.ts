/// <reference lib="dom" />
/**
 * The console talks to the same /v1 API as the CLI, signed in with its session cookie. Every
 * change carries X-CSRF-Token (from sign-in or GET /v1/session).
 */
import { t } from './i18n.js';

export type Role = 'admin' | 'operator' | 'viewer';
export interface SessionUser {
  id: number;
  name: string;
  role: Role;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string; line?: number; column?: number }> = [],
  ) {
    super(message);
  }
}

let csrfToken = '';
let user: SessionUser | null = null;

export function currentUser(): SessionUser | null {
  return user;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
export function can(role: Role): boolean {
  return user !== null && RANK[user.role] >= RANK[role];
}

export async function api<T>(method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { ...headers } };
  const sent = init.headers as Record<string, string>;
  if (method !== 'GET') sent['x-csrf-token'] = csrfToken;
  if (body !== undefined) {
    sent['content-type'] = contentType;
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const payload = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const failure = (payload ?? {}) as { error?: string; message?: string; details?: ApiError['details'] };
    throw new ApiError(response.status, failure.error ?? 'http', failure.message ?? `HTTP ${response.status}`, failure.details ?? []);
  }
  return payload as T;
}

export async function loadSession(): Promise<SessionUser | null> {
  try {
    const session = await api<{ user: SessionUser; csrfToken: string }>('GET', '/v1/session');
    csrfToken = session.csrfToken;
    user = session.user;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    user = null;
  }
  return user;
}

export async function signIn(name: string, password: string): Promise<SessionUser> {
  const session = await api<{ user: SessionUser; csrfToken: string }>('POST', '/v1/session', { name, password });
  csrfToken = session.csrfToken;
  user = session.user;
  return user;
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/v1/session');
  user = null;
  csrfToken = '';
}

/** An upload with progress (fetch has no upload progress): CSV bodies to the import routes. */
export function upload<T>(path: string, file: Blob, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', path);
    request.setRequestHeader('content-type', 'text/csv');
    request.setRequestHeader('x-csrf-token', csrfToken);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onerror = () => reject(new ApiError(0, 'network', 'network error'));
    request.onload = () => {
      const payload = request.responseText ? (JSON.parse(request.responseText) as Record<string, unknown>) : {};
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve(payload as T);
      } else reject(new ApiError(request.status, String(payload.error ?? 'http'), String(payload.message ?? request.status), (payload.details as ApiError['details']) ?? []));
    };
    request.send(file);
  });
}

/** An API failure in the reader's language. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return t('console.error.signedOut');
    if (error.status === 403) return t('console.error.forbidden', { message: error.message });
    return t('console.error.api', { status: error.status, message: error.message });
  }
  return String(error);
}
