import http from 'node:http';
import https from 'node:https';
import { createRequesterFn } from '@gitbeaker/requester-utils';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { AmbiguousWriteError, GitLabHttpError, isTransient } from './errors.js';
import { localPacer, type PaceLimits, type Pacer } from './pacing.js';
import { sleepUnlessAborted } from './shared-abort-sleep.js';

/**
 * The HTTP layer under gitbeaker. gitbeaker's own handler retries 429/502 within milliseconds and
 * ignores `Retry-After`; this one paces itself below GitLab's limits, honours `Retry-After` for every
 * request (a 429 pauses them all), retries transient failures with exponential backoff and jitter,
 * never retries a POST whose outcome is unknown, and counts everything for /metrics.
 */

export interface RequesterSettings extends PaceLimits {
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

export function createRequester(
  settings: RequesterSettings,
  logger: Logger,
  metrics: Metrics | null,
  /** Shared pacing (replicas on Redis); this process's own by default. */
  sharedPacer?: Pacer,
): Requester {
  const transport = new PacedTransport(settings, logger, metrics, sharedPacer);
  return {
    requesterFn: createRequesterFn(
      async (_resource, request) => request,
      (endpoint, options) => transport.request(endpoint, options),
    ),
    rateLimit: () => transport.rateLimit,
    waitedMs: () => transport.waitedMs,
    stop: async () => transport.stop(),
  };
}

type Answer = { body: unknown; headers: Record<string, string>; status: number };

/** The requester's state and stages: pace, send under a timeout, read the answer, retry what is transient. */
class PacedTransport {
  rateLimit: GitLabRateLimit | null = null;
  waitedMs = 0;
  private pausedUntil = 0;
  private readonly stopped = new AbortController();
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  private readonly send = sendWith(this.agents);
  private readonly pacer: Pacer;

  constructor(
    private readonly settings: RequesterSettings,
    private readonly logger: Logger,
    private readonly metrics: Metrics | null,
    sharedPacer: Pacer | undefined,
  ) {
    this.pacer = sharedPacer ?? localPacer(settings, this.stopped.signal);
  }

  /** gitbeaker's request handler: one call, retried with backoff while its failure is transient. */
  request(endpoint: string, options: Record<string, unknown> = {}) {
    const prefix = String(options.prefixUrl ?? '');
    const url = new URL(endpoint, prefix.endsWith('/') ? prefix : `${prefix}/`);
    if (typeof options.searchParams === 'string') url.search = options.searchParams;
    return pRetry(() => this.once(url, options), {
      retries: this.settings.retries,
      minTimeout: this.settings.minBackoffMs,
      maxTimeout: this.settings.maxBackoffMs,
      factor: 2,
      randomize: true,
      // A POST whose outcome is unknown is left to the caller, which re-reads before writing again.
      shouldRetry: ({ error }) => !(error instanceof AmbiguousWriteError) && isTransient(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        this.logger.warn(
          { endpoint: nameOf(url), method: options.method, attempt: attemptNumber, retriesLeft, err: error.message },
          'gitlab request failed',
        );
      },
    }) as Promise<{ body: never; headers: Record<string, string>; status: number }>;
  }

  async stop(): Promise<void> {
    this.stopped.abort(new Error('the GitLab requester was stopped'));
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async once(url: URL, options: Record<string, unknown>): Promise<Answer> {
    const method = String(options.method ?? 'GET');
    const queued = Date.now();
    this.stopped.signal.throwIfAborted();
    await pace(this.pacer, url, method, this.stopped.signal);
    const paced = Date.now() - queued;
    if (paced > 0) this.countWait(paced);
    if (this.pausedUntil > Date.now()) await this.wait(this.pausedUntil - Date.now());
    return withTimeout(this.settings.timeoutMs, options.signal, (signal) =>
      this.exchange(url, method, options, signal),
    );
  }

  private async exchange(
    url: URL,
    method: string,
    options: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Answer> {
    const name = nameOf(url);
    if (options.body !== undefined && typeof options.body !== 'string')
      throw new TypeError(`${method} ${name}: only JSON bodies are sent`);
    let response: HttpAnswer;
    try {
      const headers = (options.headers ?? {}) as Record<string, string>;
      response = await this.send(url, method, headers, options.body as string | undefined, signal);
    } catch (err) {
      this.metrics?.gitlabCalls.inc({ endpoint: name, method, status: 'error' });
      // Connection refused means nothing was sent; a timeout may have reached GitLab.
      const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      if (method === 'POST' && !refused)
        throw new AmbiguousWriteError(`POST ${name}: no answer (${(err as Error).name})`, err);
      throw err;
    }
    this.rateLimit = readRateLimit(response.headers, Date.now()) ?? this.rateLimit;
    this.metrics?.gitlabCalls.inc({ endpoint: name, method, status: String(response.status) });
    if (response.status >= 200 && response.status < 300) return successOf(response);
    throw this.failureOf(response, method, name);
  }

  /** The error for a non-2xx answer; a rate limit, or a 5xx that says when to come back (maintenance), pauses every call. */
  private failureOf({ status, headers, text }: HttpAnswer, method: string, name: string): Error {
    const after = retryAfterMs(headers['retry-after'] ?? null, Date.now());
    if (status === 429 || (status >= 500 && after !== null)) {
      this.pausedUntil = Math.max(this.pausedUntil, Date.now() + (after ?? this.settings.minBackoffMs));
      // Other replicas sharing the pacer wait too (best effort: a shared pause never throws).
      void this.pacer.pause(this.pausedUntil);
    }
    const error = new GitLabHttpError(
      `${method} ${name}: ${status} ${describeFailure(text)}`.slice(0, 500),
      status,
      method,
      name,
      after,
      text.slice(0, 2000),
    );
    return method === 'POST' && status >= 500 ? new AmbiguousWriteError(error.message, error) : error;
  }

  private countWait(ms: number): void {
    this.waitedMs += ms;
    this.metrics?.rateLimitWait.inc(ms / 1000);
  }

  // A referenced timer: in a CLI job nothing else keeps the process alive while it waits out a
  // `Retry-After` (an unref'd one let Node exit with code 13 mid-job). `stop()` cuts the wait short.
  private wait(ms: number): Promise<void> {
    this.countWait(ms);
    return sleepUnlessAborted(ms, this.stopped.signal);
  }
}

/** What a call counts against: every call, note creations (GitLab's notes_create limit covers comments on commits too), searches. */
async function pace(pacer: Pacer, url: URL, method: string, signal: AbortSignal): Promise<void> {
  if (method === 'POST' && /\/(notes|comments)$/.test(url.pathname)) await pacer.acquire('note', signal);
  if (method === 'GET' && (url.searchParams.get('search') ?? '').trim() !== '') await pacer.acquire('search', signal);
  await pacer.acquire('request', signal);
}

/**
 * Runs one exchange under the requester's timeout and the caller's signal. The timer is cleared as
 * soon as the answer is read: AbortSignal.timeout would keep every request and its response
 * reachable until it fired, which a report reading 10,000 issues feels.
 */
async function withTimeout<T>(timeoutMs: number, outerSignal: unknown, run: (signal: AbortSignal) => Promise<T>) {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const outer = outerSignal instanceof AbortSignal ? outerSignal : null;
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await run(controller.signal);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

/** A 2xx answer as gitbeaker expects it: JSON parsed, other text kept, null when empty. */
function successOf({ status, headers, text }: HttpAnswer): Answer {
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim();
  const body =
    status === 204 || text === '' ? null : type === 'application/json' ? ((JSON.parse(text) as unknown) ?? {}) : text;
  return { body, headers, status };
}

/** GitLab's `message` or `error` from an error answer, else the text as it came. */
function describeFailure(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    return typeof parsed.message === 'string'
      ? parsed.message
      : typeof parsed.error === 'string'
        ? parsed.error
        : JSON.stringify(parsed.message ?? parsed.error ?? parsed);
  } catch {
    return text;
  }
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
