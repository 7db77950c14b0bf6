import type { CookieOptions, Request, Response } from 'express';
import Tokens from 'csrf';
import { z } from 'zod';

/**
 * The signed-in person, kept in a signed cookie (cookie-parser's HMAC signature with the session
 * secret: readable by its owner, not forgeable). It holds no GitLab token: the membership is
 * re-checked with the bot's own token.
 */
export interface Session {
  userId: number;
  username: string;
  name: string;
  /** Their role in the request project when last checked (`Gitlab::Access` level). */
  accessLevel: number;
  /** When the membership was last checked (ms). */
  checkedAt: number;
  /** When they signed in (ms): a session ends after SESSION_MAX_AGE_MS whatever happens. */
  signedInAt: number;
  /** The secret the Retry form's CSRF tokens are made from. */
  csrfSecret: string;
}

/** The sign-in under way: what the callback must see again (state) and prove (PKCE verifier). */
export interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
}

export const SESSION_COOKIE = 'scale_bot_session';
const PENDING_COOKIE = 'scale_bot_sign_in';
export const SESSION_MAX_AGE_MS = 12 * 3_600_000;
const PENDING_MAX_AGE_MS = 10 * 60_000;

/** Signed, HttpOnly, Secure and SameSite=Lax: sent on top-level navigations (GitLab's redirect back), not on cross-site POSTs. */
const COOKIE: CookieOptions = { httpOnly: true, secure: true, sameSite: 'lax', path: '/', signed: true };

const sessionSchema = z.object({
  userId: z.number().int(),
  username: z.string(),
  name: z.string(),
  accessLevel: z.number().int(),
  checkedAt: z.number(),
  signedInAt: z.number(),
  csrfSecret: z.string(),
});
const pendingSchema = z.object({ state: z.string(), verifier: z.string(), returnTo: z.string() });

const tokens = new Tokens();

function readSigned<T>(req: Request, name: string, schema: z.ZodType<T>): T | null {
  const raw: unknown = (req.signedCookies as Record<string, unknown> | undefined)?.[name];
  if (typeof raw !== 'string') return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function readSession(req: Request, now: number): Session | null {
  const session = readSigned(req, SESSION_COOKIE, sessionSchema);
  return session && now - session.signedInAt < SESSION_MAX_AGE_MS ? session : null;
}

export function writeSession(res: Response, session: Session): void {
  res.cookie(SESSION_COOKIE, JSON.stringify(session), { ...COOKIE, maxAge: SESSION_MAX_AGE_MS });
}

export function clearSession(res: Response): void {
  res.clearCookie(SESSION_COOKIE, { ...COOKIE, signed: false });
}

export function newSession(
  user: { id: number; username: string; name: string },
  accessLevel: number,
  now: number,
): Session {
  return {
    userId: user.id,
    username: user.username,
    name: user.name,
    accessLevel,
    checkedAt: now,
    signedInAt: now,
    csrfSecret: tokens.secretSync(),
  };
}

/** Takes the pending sign-in (it is good for one callback only). */
export function takePending(req: Request, res: Response): PendingSignIn | null {
  res.clearCookie(PENDING_COOKIE, { ...COOKIE, signed: false });
  return readSigned(req, PENDING_COOKIE, pendingSchema);
}

export function writePending(res: Response, pending: PendingSignIn): void {
  res.cookie(PENDING_COOKIE, JSON.stringify(pending), { ...COOKIE, maxAge: PENDING_MAX_AGE_MS });
}

/** A token for one form of this session (synchronizer token pattern). */
export function csrfToken(session: Session): string {
  return tokens.create(session.csrfSecret);
}

export function csrfValid(session: Session, token: unknown): boolean {
  return typeof token === 'string' && tokens.verify(session.csrfSecret, token);
}
