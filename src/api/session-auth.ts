import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import argon2 from 'argon2';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_ROLES, type ApiRole } from '../domain/api-key.js';
import { ConflictError, ForbiddenError, UnauthorizedError, ValidationError } from '../errors.js';
import type { AuditRepository } from '../store/audit.repository.js';
import type { User, UserRepository } from '../store/user.repository.js';
import type { Principal } from './auth.js';

/**
 * Console sign-in: staff accounts (argon2id password hashes) and cookie sessions. A session is a
 * random token in an HttpOnly cookie, stored as its sha256. Requests that change something must
 * also carry `X-CSRF-Token`, derived from the session token: a page on another origin can make the
 * browser send the cookie but cannot read the token (synchronizer token, nothing extra stored).
 */
export const SESSION_COOKIE = 'loa_session';
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_HOURS = 12;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const USER_NAME = '^[a-z0-9][a-z0-9._-]{1,62}$';
export const MIN_PASSWORD_LENGTH = 10;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function csrfTokenFor(sessionToken: string): string {
  return sha256(`csrf:${sessionToken}`);
}

export interface UserView {
  id: number;
  name: string;
  role: ApiRole;
  createdAt: string;
  disabled: boolean;
}

export function userView(user: User): UserView {
  return { id: user.id, name: user.name, role: user.role, createdAt: user.created_at.toISOString(), disabled: user.disabled_at !== null };
}

/** What the audit log names for a person: `user:<id>:<name>` (API keys are `key:<id>:<name>`). */
export function userActor(user: { id: number; name: string }): string {
  return `user:${user.id}:${user.name}`;
}

export class UserService {
  /** Verified against when the name is unknown, so a wrong name costs as long as a wrong password. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly users: UserRepository,
    private readonly audit: AuditRepository,
  ) {}

  async create(input: { name: string; role: ApiRole; password: string }, actor: string): Promise<UserView> {
    const problems: Array<{ path: string; message: string }> = [];
    if (!new RegExp(USER_NAME).test(input.name)) problems.push({ path: 'name', message: 'lower-case letters, digits, . _ - (2–63 characters)' });
    if (!(API_ROLES as readonly string[]).includes(input.role)) problems.push({ path: 'role', message: `one of ${API_ROLES.join(', ')}` });
    if (input.password.length < MIN_PASSWORD_LENGTH) problems.push({ path: 'password', message: `at least ${MIN_PASSWORD_LENGTH} characters` });
    if (problems.length > 0) throw new ValidationError('the user cannot be created', problems);
    if (await this.users.findByName(input.name)) throw new ConflictError(`a user named '${input.name}' exists already`);
    const user = await this.users.create({ name: input.name, role: input.role, passwordHash: await argon2.hash(input.password, { type: argon2.argon2id }) });
    await this.audit.record({ actor, action: 'user.create', subject: `user:${user.id}`, details: { name: user.name, role: user.role } });
    return userView(user);
  }

  async list(): Promise<UserView[]> {
    return (await this.users.list()).map(userView);
  }

  /** A new session token for a right name and password; the same error for every wrong case. */
  async signIn(name: string, password: string, ip: string): Promise<{ token: string; user: User }> {
    const user = await this.users.findByName(name);
    const hash = user && user.disabled_at === null ? user.password_hash : await (this.dummyHash ??= argon2.hash(randomBytes(16).toString('hex')));
    const ok = await argon2.verify(hash, password).catch(() => false);
    if (!ok || !user || user.disabled_at !== null) {
      await this.audit.record({ actor: `ip:${ip}`, action: 'session.refused', subject: `user-name:${name.slice(0, 64)}` });
      throw new UnauthorizedError('wrong name or password');
    }
    const token = randomBytes(32).toString('base64url');
    await this.users.createSession(sha256(token), user.id, new Date(Date.now() + SESSION_HOURS * 3_600_000));
    await this.audit.record({ actor: userActor(user), action: 'session.create', subject: `user:${user.id}`, details: { ip } });
    return { token, user };
  }

  async signOut(token: string, user: { id: number; name: string }): Promise<void> {
    await this.users.deleteSession(sha256(token));
    await this.audit.record({ actor: userActor(user), action: 'session.delete', subject: `user:${user.id}` });
  }

  async sessionUser(token: string): Promise<User | undefined> {
    return this.users.findSessionUser(sha256(token));
  }

  get sessionMaxAgeSeconds(): number {
    return SESSION_HOURS * 3600;
  }
}

/** The session cookie's token, when the request has one (@fastify/cookie parsed it). */
export function sessionToken(request: FastifyRequest): string | undefined {
  const value = request.cookies?.[SESSION_COOKIE];
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/**
 * The principal of a request signed in with the console's cookie (auth.ts calls this when there is
 * no `Authorization` header), or undefined when there is no session cookie. A change without the
 * right CSRF token is refused even with a valid cookie.
 */
export async function sessionPrincipal(request: FastifyRequest, users: UserService): Promise<Principal | undefined> {
  const token = sessionToken(request);
  if (!token) return undefined;
  const user = await users.sessionUser(token);
  if (!user) throw new UnauthorizedError('the session has expired or was signed out; sign in again');
  if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers[CSRF_HEADER];
    const expected = Buffer.from(csrfTokenFor(token));
    if (typeof sent !== 'string' || sent.length !== expected.length || !timingSafeEqual(Buffer.from(sent), expected)) {
      throw new ForbiddenError(`missing or wrong ${CSRF_HEADER} header (the console sends it with every change)`);
    }
  }
  return { keyId: 0, name: user.name, role: user.role, scope: null, actor: userActor(user) };
}

/** Cookie attributes: HttpOnly and SameSite=Strict always; Secure when the request came over TLS (directly or via a trusted proxy). */
export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, token: string, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
