import { createHash, randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { UserRecord } from './state.js';

/**
 * GitLab as an OAuth 2 identity provider, for the status page's sign-in: applications, the
 * authorization-code flow with PKCE and the tokens it yields. Modelled on docs.gitlab.com "OAuth 2.0
 * identity provider API" (api/oauth2.md), which GitLab implements with the doorkeeper gem:
 * - `GET /oauth/authorize?client_id&redirect_uri&response_type=code&state&scope&code_challenge&code_challenge_method`
 *   shows the signed-in user a consent page; approving redirects to `redirect_uri?code=…&state=…`,
 *   denying to `redirect_uri?error=access_denied&…`. An unknown client or a redirect URI the
 *   application does not list is shown as an error page, never redirected to.
 * - `POST /oauth/token` with `grant_type=authorization_code`, `code`, `redirect_uri`, the client
 *   credentials and `code_verifier` answers `{access_token, token_type: "Bearer", expires_in: 7200,
 *   refresh_token, scope, created_at}`; a used, expired or mismatched code is `400 invalid_grant`,
 *   wrong client credentials `401 invalid_client`. Codes live 10 minutes and work once.
 * The fake has no browser session of its own, so its consent page also asks whom to sign in as,
 * unless a browser user was set (`setBrowserUser`: the person signed in to GitLab in the browser, as
 * for the demo). GitLab skips the consent page for a trusted application and a signed-in user
 * (`skip_authorization { |_, client| client.application.trusted? }` in config/initializers/doorkeeper.rb;
 * "Trusted" is the admin's checkbox under Admin → Applications).
 */

export interface OAuthApplication {
  /** The application id (`client_id`). */
  id: string;
  secret: string;
  redirectUri: string;
  scopes: string[];
  /** Admin → Applications → Trusted: a signed-in user is not asked to authorize it. */
  trusted: boolean;
}

export interface OAuthToken {
  userId: number;
  scopes: string[];
}

interface Grant {
  clientId: string;
  userId: number;
  redirectUri: string;
  scopes: string[];
  challenge: string | null;
  method: 'S256' | 'plain' | null;
  expiresAt: number;
}

export interface OAuthUsers {
  userByUsername(username: string): UserRecord | undefined;
}

/** doorkeeper's `access_grant_expires_in` in GitLab's initializer: 10 minutes. */
const GRANT_TTL_MS = 10 * 60_000;
/** GitLab's OAuth access tokens expire after 2 hours (`access_token_expires_in`). */
const TOKEN_EXPIRES_IN_S = 7200;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const random = () => randomBytes(24).toString('hex');
const field = (v: unknown) => (typeof v === 'string' ? v : undefined);

export class FakeOAuth {
  private readonly apps = new Map<string, OAuthApplication>();
  private readonly grants = new Map<string, Grant>();
  private readonly tokens = new Map<string, OAuthToken>();
  private browserUser: UserRecord | null = null;

  constructor(
    private readonly users: OAuthUsers,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers an application, as an admin or user does under Applications in GitLab's settings (id and secret may be given). */
  addApplication(
    redirectUri: string,
    scopes: string[] = ['read_user'],
    credentials?: { id: string; secret: string },
    trusted = false,
  ): OAuthApplication {
    const app = {
      id: credentials?.id ?? random(),
      secret: credentials?.secret ?? `gloas-${random()}`,
      redirectUri,
      scopes,
      trusted,
    };
    this.apps.set(app.id, app);
    return app;
  }

  /** The person signed in to GitLab in "the" browser (null: nobody, the consent page asks). */
  setBrowserUser(username: string | null): void {
    const user = username === null ? null : this.users.userByUsername(username);
    if (user === undefined) throw new Error(`fake GitLab: no user "${username}"`);
    this.browserUser = user;
  }

  token(accessToken: string): OAuthToken | undefined {
    return this.tokens.get(accessToken);
  }

  router(): Router {
    const router = Router();
    router.get('/authorize', (req, res) => this.showConsent(req, res));
    router.post('/authorize', express.urlencoded({ extended: false }), (req, res) => this.decideConsent(req, res));
    router.post('/token', express.urlencoded({ extended: false }), express.json(), (req, res) =>
      this.exchange(req, res),
    );
    return router;
  }

  /** Checks the client and redirect URI first: errors there are shown, not redirected (RFC 6749 §4.1.2.1). */
  private client(p: Record<string, unknown>, res: Response): OAuthApplication | null {
    const app = this.apps.get(field(p.client_id) ?? '');
    if (!app || field(p.redirect_uri) !== app.redirectUri) {
      res
        .status(400)
        .type('html')
        .send(
          '<!doctype html><title>An error has occurred</title><h1>An error has occurred</h1><p>Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.</p>',
        );
      return null;
    }
    return app;
  }

  private redirectWith(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    res.redirect(302, url.toString());
  }

  private showConsent(req: Request, res: Response): void {
    const p = req.query as Record<string, unknown>;
    const app = this.client(p, res);
    if (!app) return;
    const state = field(p.state);
    if (field(p.response_type) !== 'code')
      return this.redirectWith(res, app.redirectUri, { error: 'unsupported_response_type', state });
    const scopes = (field(p.scope) ?? app.scopes.join(' ')).split(/[\s+]+/).filter(Boolean);
    if (scopes.some((s) => !app.scopes.includes(s)))
      return this.redirectWith(res, app.redirectUri, { error: 'invalid_scope', state });
    const method = field(p.code_challenge_method);
    if (method !== undefined && method !== 'S256' && method !== 'plain')
      return this.redirectWith(res, app.redirectUri, { error: 'invalid_request', state });
    if (app.trusted && this.browserUser)
      return this.grant(res, app, this.browserUser, { ...p, scope: scopes.join(' ') });
    const hidden = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method']
      .map((k) =>
        field(p[k]) === undefined ? '' : `<input type="hidden" name="${k}" value="${escape(field(p[k])!)}">`,
      )
      .join('');
    res.type('html')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorize application</title></head><body><main>
<h1>Authorize application</h1>
<p>An application is requesting access to your GitLab account (scopes: ${escape(scopes.join(', '))}).</p>
<form method="post" action="/oauth/authorize">${hidden}<input type="hidden" name="scope" value="${escape(scopes.join(' '))}">
<label for="username">Signed in as (username)</label> <input id="username" name="username" autocomplete="username" required>
<button type="submit" name="decision" value="authorize">Authorize</button> <button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>`);
  }

  private decideConsent(req: Request, res: Response): void {
    const p = req.body as Record<string, unknown>;
    const app = this.client(p, res);
    if (!app) return;
    const state = field(p.state);
    if (field(p.decision) !== 'authorize') {
      return this.redirectWith(res, app.redirectUri, {
        error: 'access_denied',
        error_description: 'The resource owner or authorization server denied the request.',
        state,
      });
    }
    const user = this.users.userByUsername(field(p.username) ?? '');
    if (!user) {
      res.status(401).type('html').send('<!doctype html><title>Sign in</title><p>Invalid login or password.</p>');
      return;
    }
    this.grant(res, app, user, p);
  }

  /** Issues an authorization code for `user` and sends the browser back to the application with it. */
  private grant(res: Response, app: OAuthApplication, user: UserRecord, p: Record<string, unknown>): void {
    const state = field(p.state);
    const challenge = field(p.code_challenge) ?? null;
    const code = random();
    this.grants.set(code, {
      clientId: app.id,
      userId: user.id,
      redirectUri: app.redirectUri,
      scopes: (field(p.scope) ?? '').split(' ').filter(Boolean),
      challenge,
      method: challenge === null ? null : ((field(p.code_challenge_method) as 'S256' | 'plain' | undefined) ?? 'plain'),
      expiresAt: this.now() + GRANT_TTL_MS,
    });
    this.redirectWith(res, app.redirectUri, { code, state });
  }

  private exchange(req: Request, res: Response): void {
    const p = req.body as Record<string, unknown>;
    // Client credentials in the body (client_secret_post) or as HTTP Basic (client_secret_basic).
    const basic = /^Basic\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const [basicId, basicSecret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
      : [];
    const app = this.apps.get(field(p.client_id) ?? basicId ?? '');
    if (!app || (field(p.client_secret) ?? basicSecret) !== app.secret) {
      res.status(401).json({
        error: 'invalid_client',
        error_description:
          'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
      });
      return;
    }
    if (field(p.grant_type) !== 'authorization_code') {
      res.status(400).json({
        error: 'unsupported_grant_type',
        error_description: 'The authorization grant type is not supported by the authorization server.',
      });
      return;
    }
    const code = field(p.code) ?? '';
    const grant = this.grants.get(code);
    this.grants.delete(code);
    if (
      !grant ||
      grant.clientId !== app.id ||
      grant.expiresAt < this.now() ||
      grant.redirectUri !== field(p.redirect_uri) ||
      !verifierMatches(grant, field(p.code_verifier))
    ) {
      res.status(400).json({
        error: 'invalid_grant',
        error_description:
          'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
      });
      return;
    }
    const accessToken = random();
    this.tokens.set(accessToken, { userId: grant.userId, scopes: grant.scopes });
    res.json({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: TOKEN_EXPIRES_IN_S,
      refresh_token: random(),
      scope: grant.scopes.join(' '),
      created_at: Math.floor(this.now() / 1000),
    });
  }
}

/** PKCE (RFC 7636): a grant made with a challenge needs the verifier that hashes to it. */
function verifierMatches(grant: Grant, verifier: string | undefined): boolean {
  if (grant.challenge === null) return verifier === undefined;
  if (verifier === undefined) return false;
  const computed = grant.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return computed === grant.challenge;
}

/**
 * What an OAuth token's scopes let it call: `read_user` reaches only the user endpoints
 * (`allow_access_with_scope :read_user` in lib/api/users.rb); anything else answers 403
 * insufficient_scope (lib/gitlab/auth/auth_finders.rb, `InsufficientScopeError` in lib/api/api_guard.rb).
 */
export function scopeAllows(scopes: readonly string[], method: string, path: string): boolean {
  if (scopes.includes('api')) return true;
  if (scopes.includes('read_api') && method === 'GET') return true;
  return scopes.includes('read_user') && method === 'GET' && /^\/users?(\/|$)/.test(path);
}

export const INSUFFICIENT_SCOPE = {
  error: 'insufficient_scope',
  error_description: 'The request requires higher privileges than provided by the access token.',
  scope: 'api read_api',
};
