import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import pThrottle from 'p-throttle';
import { createRequesterFn } from '@gitbeaker/requester-utils';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { AmbiguousWriteError, GitLabHttpError, isTransient } from './errors.js';

/**
 * The HTTP layer under gitbeaker. gitbeaker's own handler retries 429/502 within milliseconds and
 * ignores `Retry-After`; this one paces itself below GitLab's limits, honours `Retry-After` for every
 * request (a 429 pauses them all), retries transient failures with exponential backoff and jitter,
 * never retries a POST whose outcome is unknown, and counts everything for /metrics.
 */

export interface RequesterSettings {
  requestsPerMinute: number;
  notesPerMinute: number;
  /** GitLab's `search_rate_limit` (30 a minute per user on GitLab.com): any listing with `search=`. */
  searchesPerMinute: number;
  /** Attempts after the first, for retryable failures. */
  retries: number;
  timeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_REQUESTER_SETTINGS: RequesterSettings = {
  requestsPerMinute: 2000,
  notesPerMinute: 60,
  searchesPerMinute: 30,
  retries: 4,
  timeoutMs: 10_000,
  minBackoffMs: 250,
  maxBackoffMs: 30_000,
};

/** `Retry-After` as seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** A stable, low-cardinality endpoint name for metrics: ids and iids replaced. */
export function endpointName(endpoint: string): string {
  return endpoint
    .replace(/^projects\/[^/]+/, 'projects/:id')
    .replace(/\/issues\/\d+/, '/issues/:iid')
    .replace(/\/notes\/\d+/, '/notes/:note_id')
    .replace(/\/repository\/files\/[^/]+/, '/repository/files/:file_path')
    .replace(/\/repository\/commits\/[^/]+/, '/repository/commits/:sha')
    .replace(/\/members\/all\/\d+/, '/members/all/:user_id')
    .replace(/^users\/\d+/, 'users/:id');
}

/** The endpoint's name from the URL's path under /api/v4 (some gitbeaker resources keep `projects/` in the prefix). */
function nameOf(url: URL): string {
  return endpointName(url.pathname.replace(/^.*?\/api\/v4\//, ''));
}

interface HttpAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
}

/**
 * One HTTP exchange over kept-alive connections (node:http rather than fetch: a report reading
 * 10,000 issues spends a third of its time in fetch's streams and decoders otherwise).
 */
function sendWith(agents: { http: http.Agent; https: https.Agent }) {
  return (
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(
        url,
        {
          method,
          agent: secure ? agents.https : agents.http,
          headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const flat: Record<string, string> = {};
            for (const [key, value] of Object.entries(res.headers))
              if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
            resolve({ status: res.statusCode ?? 0, headers: flat, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
}

/**
 * GitLab's own count of the bot's calls, from the last answer that carried it: `RateLimit-Name`,
 * `-Limit` (per minute), `-Observed`, `-Remaining` and `-Reset` (Unix time), which GitLab's
 * Rack::Attack throttles set (`Gitlab::RackAttack::RequestThrottleData#common_response_headers`,
 * lib/gitlab/rack_attack/request_throttle_data.rb; docs.gitlab.com "User and IP rate limits",
 * "Response headers"). Only the latest is kept.
 */
export interface GitLabRateLimit {
  name: string | null;
  limit: number;
  remaining: number;
  observed: number | null;
  /** When GitLab's window ends (ms). */
  resetAt: number | null;
  /** When the answer carrying it arrived (ms). */
  seenAt: number;
}

export interface Requester {
  requesterFn: ReturnType<typeof createRequesterFn>;
  /** GitLab's rate-limit headers as last seen, or null when no answer carried them. */
  rateLimit: () => GitLabRateLimit | null;
  /** Total ms spent waiting on pacing and Retry-After so far. */
  waitedMs: () => number;
  stop: () => Promise<void>;
}

export function createRequester(settings: RequesterSettings, logger: Logger, metrics: Metrics | null): Requester {
  // Windows of one second: bursts stay small and the minute total stays under the limit. Below the
  // limit a call passes at once (no timer hop), so pacing costs nothing until it is needed.
  const perSecond = (perMinute: number) => Math.max(1, Math.floor(perMinute / 60));
  const stopped = new AbortController();
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  const send = sendWith(agents);
  const gate = (perMinute: number) =>
    pThrottle({ limit: perSecond(perMinute), interval: 1000, signal: stopped.signal })(() => undefined);
  const all = gate(settings.requestsPerMinute);
  const notes = gate(settings.notesPerMinute);
  // GitLab counts searches in fixed minute windows (`Gitlab::ApplicationRateLimiter`); at most N in
  // any sliding minute (plus a second for clock skew) never passes N in one of its windows.
  const searches = pThrottle({
    limit: settings.searchesPerMinute,
    interval: 61_000,
    strict: true,
    signal: stopped.signal,
  })(() => undefined);
  let pausedUntil = 0;
  let waited = 0;
  let rateLimit: GitLabRateLimit | null = null;
  // A referenced timer: in a CLI job nothing else keeps the process alive while it waits out a
  // `Retry-After` (an unref'd one let Node exit with code 13 mid-job). `stop()` cuts the wait short.
  const wait = (ms: number) => {
    waited += ms;
    metrics?.rateLimitWait.inc(ms / 1000);
    return sleep(ms, undefined, { signal: stopped.signal });
  };

  async function once(
    url: URL,
    options: Record<string, unknown>,
  ): Promise<{ body: unknown; headers: Record<string, string>; status: number }> {
    const method = String(options.method ?? 'GET');
    // GitLab's notes_create limit covers comments on commits too.
    const isNoteCreation = method === 'POST' && /\/(notes|comments)$/.test(url.pathname);
    const isSearch = method === 'GET' && (url.searchParams.get('search') ?? '').trim() !== '';
    const queued = Date.now();
    stopped.signal.throwIfAborted();
    if (isNoteCreation) await notes();
    if (isSearch) await searches();
    await all();
    const paced = Date.now() - queued;
    if (paced > 0) {
      waited += paced;
      metrics?.rateLimitWait.inc(paced / 1000);
    }
    if (pausedUntil > Date.now()) await wait(pausedUntil - Date.now());

    // A timer cleared as soon as the answer is read: AbortSignal.timeout would keep every request
    // and its response reachable until it fired, which a report reading 10,000 issues feels.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException(`no answer within ${settings.timeoutMs} ms`, 'TimeoutError')),
      settings.timeoutMs,
    );
    const outer = options.signal instanceof AbortSignal ? options.signal : null;
    const onOuterAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await exchange(url, method, options, controller.signal);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }

  async function exchange(
    url: URL,
    method: string,
    options: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<{ body: unknown; headers: Record<string, string>; status: number }> {
    const name = nameOf(url);
    if (options.body !== undefined && typeof options.body !== 'string')
      throw new TypeError(`${method} ${name}: only JSON bodies are sent`);
    let response: HttpAnswer;
    try {
      response = await send(
        url,
        method,
        (options.headers ?? {}) as Record<string, string>,
        options.body as string | undefined,
        signal,
      );
    } catch (err) {
      metrics?.gitlabCalls.inc({ endpoint: name, method, status: 'error' });
      // Connection refused means nothing was sent; a timeout may have reached GitLab.
      const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      if (method === 'POST' && !refused)
        throw new AmbiguousWriteError(`POST ${name}: no answer (${(err as Error).name})`, err);
      throw err;
    }
    const { status, headers, text } = response;
    rateLimit = readRateLimit(headers, Date.now()) ?? rateLimit;
    metrics?.gitlabCalls.inc({ endpoint: name, method, status: String(status) });
    if (status >= 200 && status < 300) {
      const type = (headers['content-type'] ?? '').split(';')[0]!.trim();
      const body =
        status === 204 || text === ''
          ? null
          : type === 'application/json'
            ? ((JSON.parse(text) as unknown) ?? {})
            : text;
      return { body, headers, status };
    }
    const after = retryAfterMs(headers['retry-after'] ?? null, Date.now());
    // A rate limit pauses every call; so does a 503 that says when to come back (maintenance).
    if (status === 429 || (status >= 500 && after !== null))
      pausedUntil = Math.max(pausedUntil, Date.now() + (after ?? settings.minBackoffMs));
    let description = text;
    try {
      const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
      description =
        typeof parsed.message === 'string'
          ? parsed.message
          : typeof parsed.error === 'string'
            ? parsed.error
            : JSON.stringify(parsed.message ?? parsed.error ?? parsed);
    } catch {
      // Not JSON: keep the text.
    }
    const error = new GitLabHttpError(
      `${method} ${name}: ${status} ${description}`.slice(0, 500),
      status,
      method,
      name,
      after,
      text.slice(0, 2000),
    );
    if (method === 'POST' && status >= 500) throw new AmbiguousWriteError(error.message, error);
    throw error;
  }

  async function handler(endpoint: string, options: Record<string, unknown> = {}) {
    const prefix = String(options.prefixUrl ?? '');
    const url = new URL(endpoint, prefix.endsWith('/') ? prefix : `${prefix}/`);
    if (typeof options.searchParams === 'string') url.search = options.searchParams;
    return pRetry(() => once(url, options), {
      retries: settings.retries,
      minTimeout: settings.minBackoffMs,
      maxTimeout: settings.maxBackoffMs,
      factor: 2,
      randomize: true,
      // A POST whose outcome is unknown is left to the caller, which re-reads before writing again.
      shouldRetry: ({ error }) => !(error instanceof AmbiguousWriteError) && isTransient(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        logger.warn(
          { endpoint: nameOf(url), method: options.method, attempt: attemptNumber, retriesLeft, err: error.message },
          'gitlab request failed',
        );
      },
    }) as Promise<{ body: never; headers: Record<string, string>; status: number }>;
  }

  return {
    requesterFn: createRequesterFn(async (_resource, request) => request, handler),
    rateLimit: () => rateLimit,
    waitedMs: () => waited,
    stop: async () => {
      stopped.abort(new Error('the GitLab requester was stopped'));
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

const headerInt = (value: string | undefined): number | null =>
  value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : null;

/** The `RateLimit-*` headers of one answer (lower-cased names), or null without a limit and remaining count. */
export function readRateLimit(headers: Record<string, string>, now: number): GitLabRateLimit | null {
  const limit = headerInt(headers['ratelimit-limit']);
  const remaining = headerInt(headers['ratelimit-remaining']);
  if (limit === null || remaining === null) return null;
  const reset = headerInt(headers['ratelimit-reset']);
  return {
    name: headers['ratelimit-name'] ?? null,
    limit,
    remaining,
    observed: headerInt(headers['ratelimit-observed']),
    resetAt: reset === null ? null : reset * 1000,
    seenAt: now,
  };
}
