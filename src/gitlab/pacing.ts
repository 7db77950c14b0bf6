import pThrottle from 'p-throttle';

/** What a GitLab call counts against: every call, note creations, searches. */
export type PaceKind = 'request' | 'note' | 'search';

/**
 * The requester's pacing, kept below GitLab's limits. GitLab's limits are per token, so replicas
 * sharing a token share one pacer (in Redis, see redis-pacing.ts); one process uses the local one.
 */
export interface Pacer {
  /** Resolves when one more call of this kind fits; waits meanwhile (or rejects once `signal` aborts). */
  acquire(kind: PaceKind, signal: AbortSignal): Promise<void>;
  /** GitLab said to wait (429, or 503 with Retry-After) until then: every user of the pacer waits. */
  pause(untilMs: number): Promise<void>;
}

/** GitLab's limits for one token, per minute, that the pacing keeps below. */
export interface PaceLimits {
  requestsPerMinute: number;
  notesPerMinute: number;
  /** GitLab's `search_rate_limit` (30 a minute per user on GitLab.com): any listing with `search=`. */
  searchesPerMinute: number;
}

/** A limit as at most `limit` calls in any `intervalMs`. */
export interface PaceWindow {
  limit: number;
  intervalMs: number;
}

/**
 * Windows of about a second for requests and notes, so bursts stay small. GitLab counts a call when
 * it arrives, up to a second after its slot was granted on a loaded host (bench/scale.js saw 301
 * calls in one minute at a limit of 300 with windows of exactly a second), so each window is
 * stretched until any 61 s hold at most the per-minute limit: then no minute GitLab sees does.
 */
function perSecond(perMinute: number): PaceWindow {
  const limit = Math.max(1, Math.floor(perMinute / 60));
  // At most `windows` full windows fit in 61 s, each granting `limit`: windows × limit ≤ perMinute.
  const windows = Math.max(1, Math.floor(perMinute / limit));
  return { limit, intervalMs: Math.ceil(61_000 / windows) };
}

/**
 * Requests and notes per `perSecond`. GitLab counts searches in fixed minute windows
 * (`Gitlab::ApplicationRateLimiter`); at most N in any sliding minute (plus a second for clock
 * skew) never passes N in one of its windows.
 */
export function paceWindows(settings: PaceLimits): Record<PaceKind, PaceWindow> {
  return {
    request: perSecond(settings.requestsPerMinute),
    note: perSecond(settings.notesPerMinute),
    search: { limit: settings.searchesPerMinute, intervalMs: 61_000 },
  };
}

/**
 * This process's pacing (p-throttle). Below the limit a call passes at once (no timer hop), so
 * pacing costs nothing until it is needed. Pauses are kept by the requester itself. Strict: the
 * windows slide, as in Redis; p-throttle's default window restarts at the first call after it ran
 * out, which lets one call at a window's end and a full window right after it pass within one interval.
 */
export function localPacer(settings: PaceLimits, signal: AbortSignal): Pacer {
  const windows = paceWindows(settings);
  const gate = (kind: PaceKind) => {
    const throttled = pThrottle({
      limit: windows[kind].limit,
      interval: windows[kind].intervalMs,
      strict: true,
      signal,
    })(() => undefined);
    return async () => {
      await throttled();
    };
  };
  const gates: Record<PaceKind, () => Promise<void>> = {
    request: gate('request'),
    note: gate('note'),
    search: gate('search'),
  };
  return {
    acquire: (kind) => gates[kind](),
    pause: async () => {},
  };
}
