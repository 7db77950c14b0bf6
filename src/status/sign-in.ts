import { Router, type NextFunction, type Request, type Response } from 'express';
import * as oauth from 'oauth4webapi';
import type { Logger } from 'pino';
import { apiUserSchema, validated } from '../gitlab/api-schemas.js';
import {
  clearSession,
  newSession,
  readSession,
  takePending,
  writePending,
  writeSession,
  type Session,
} from './session.js';
import type { StatusSettings } from './settings.js';

/**
 * Sign-in with GitLab (OAuth 2 authorization code with PKCE, `read_user` scope; docs.gitlab.com
 * "OAuth 2.0 identity provider API"): GitLab says who the person is; the bot's own token then asks
 * whether they are a member of the request project with at least the Reporter role (customer names
 * and ARR are on the page). The membership is asked again once the check is an hour old.
 */

/** `Gitlab::Access` (lib/gitlab/access.rb). */
const REPORTER = 20;
const ROLE_NAMES: Record<number, string> = {
  5: 'Minimal Access',
  10: 'Guest',
  15: 'Planner',
  20: 'Reporter',
  30: 'Developer',
  40: 'Maintainer',
  50: 'Owner',
};
export const RECHECK_AFTER_MS = 3_600_000;

export interface SignInDeps {
  settings: StatusSettings;
  gitlabUrl: string;
  projectName: () => string;
  /** The person's role in the request project, asked with the bot's token; null when no member. */
  accessLevel: (userId: number) => Promise<number | null>;
  /** Renders the 403 page with the reason. */
  denied: (res: Response, reason: string) => void;
  logger: Logger;
  now: () => number;
}

export function callbackUrl(settings: StatusSettings): string {
  return `${settings.publicUrl}/auth/callback`;
}

/** Why someone with this role may not in, or null when they may. */
function refusal(level: number | null, username: string, project: string): string | null {
  if (level === null)
    return `@${username} is not a member of ${project}. Ask one of its maintainers to add you with at least the Reporter role.`;
  if (level < REPORTER) {
    return `@${username} is a ${ROLE_NAMES[level] ?? `level ${level}`} in ${project}; the status page shows customer names and ARR, so it needs at least the Reporter role.`;
  }
  return null;
}

/** Only paths of this site: an open redirect would let a link send people anywhere after sign-in. */
function safeReturn(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/';
}

export function signInRouter(deps: SignInDeps): Router {
  const { settings } = deps;
  const as: oauth.AuthorizationServer = {
    issuer: deps.gitlabUrl,
    authorization_endpoint: `${deps.gitlabUrl}/oauth/authorize`,
    token_endpoint: `${deps.gitlabUrl}/oauth/token`,
  };
  const client: oauth.Client = { client_id: settings.appId };
  const clientAuth = oauth.ClientSecretPost(settings.appSecret);
  // A GitLab on plain http (the fake on loopback, a lab instance) is the operator's choice.
  const insecure = { [oauth.allowInsecureRequests]: deps.gitlabUrl.startsWith('http:') };
  const router = Router();

  router.get('/auth/sign-in', async (req, res) => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    writePending(res, { state, verifier, returnTo: safeReturn(req.query.return) });
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: settings.appId,
      redirect_uri: callbackUrl(settings),
      response_type: 'code',
      scope: 'read_user',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    res.redirect(302, url.toString());
  });

  router.get('/auth/callback', (req, res, next) =>
    completeSignIn({ deps, as, client, clientAuth, insecure }, req, res, next),
  );

  return router;
}

interface OAuthParts {
  deps: SignInDeps;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  insecure: { [oauth.allowInsecureRequests]: boolean };
}

/**
 * GitLab's redirect back: checks state and PKCE, trades the code for a token, asks who it is and
 * whether they may see the page, then starts the session and returns to where they were going.
 */
async function completeSignIn(
  { deps, as, client, clientAuth, insecure }: OAuthParts,
  req: Request,
  res: Response,
  next: NextFunction,
): Promise<void> {
  const { settings } = deps;
  const pending = takePending(req, res);
  if (!pending) return deps.denied(res, 'The sign-in expired or was started in another browser. Sign in again.');
  try {
    const params = oauth.validateAuthResponse(as, client, new URL(req.originalUrl, settings.publicUrl), pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      callbackUrl(settings),
      pending.verifier,
      insecure,
    );
    const token = await oauth.processAuthorizationCodeResponse(as, client, response);
    const user = await whoIs(deps.gitlabUrl, token.access_token);
    const level = await deps.accessLevel(user.id);
    const why = refusal(level, user.username, deps.projectName());
    if (why) {
      deps.logger.info({ username: user.username, accessLevel: level }, 'status page sign-in refused');
      return deps.denied(res, why);
    }
    writeSession(
      res,
      newSession({ id: user.id, username: user.username, name: user.name ?? user.username }, level!, deps.now()),
    );
    deps.logger.info({ username: user.username }, 'signed in to the status page');
    res.redirect(303, pending.returnTo);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError && err.error === 'access_denied')
      return deps.denied(res, 'You did not authorize scale-bot in GitLab, so the page cannot tell who you are.');
    if (err instanceof oauth.AuthorizationResponseError || err instanceof oauth.ResponseBodyError) {
      deps.logger.warn({ error: err.error }, 'status page sign-in failed');
      return deps.denied(res, `GitLab refused the sign-in (${err.error}). Sign in again.`);
    }
    next(err);
  }
}

/** The person behind an OAuth token: `GET /user` is what `read_user` allows. */
async function whoIs(
  gitlabUrl: string,
  accessToken: string,
): Promise<{ id: number; username: string; name?: string | undefined }> {
  const answer = await fetch(`${gitlabUrl}/api/v4/user`, {
    headers: { authorization: `Bearer ${accessToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!answer.ok) throw new Error(`GET /user with the sign-in token answered ${answer.status}`);
  return validated(apiUserSchema, await answer.json(), 'GET /user');
}

/**
 * Lets signed-in members through with `res.locals.session`; sends others to sign in (GET) or
 * refuses them (anything else). A session whose membership check is an hour old is checked again;
 * a person who lost their membership is signed out with the reason.
 */
export function requireMember(deps: SignInDeps) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const session = readSession(req, deps.now());
    if (!session) {
      if (req.method === 'GET') res.redirect(302, `/auth/sign-in?return=${encodeURIComponent(req.originalUrl)}`);
      else deps.denied(res.status(401), 'You are not signed in (or your session ended). Sign in again.');
      return;
    }
    try {
      res.locals.session =
        deps.now() - session.checkedAt < RECHECK_AFTER_MS ? session : await recheck(deps, session, res);
    } catch (err) {
      next(err);
      return;
    }
    if (res.locals.session) next();
  };
}

async function recheck(deps: SignInDeps, session: Session, res: Response): Promise<Session | null> {
  const level = await deps.accessLevel(session.userId);
  const why = refusal(level, session.username, deps.projectName());
  if (why) {
    clearSession(res);
    deps.logger.info({ username: session.username, accessLevel: level }, 'status page session ended: membership gone');
    deps.denied(res, why);
    return null;
  }
  const fresh = { ...session, accessLevel: level!, checkedAt: deps.now() };
  writeSession(res, fresh);
  return fresh;
}
