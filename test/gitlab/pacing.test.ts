import { afterEach, describe, expect, it, vi } from 'vitest';
import { localPacer, paceWindows } from '../../src/gitlab/pacing.js';

/** The most calls a sliding window of `limit` per `intervalMs` grants in any `spanMs`. */
const mostIn = (spanMs: number, w: { limit: number; intervalMs: number }) => w.limit * Math.ceil(spanMs / w.intervalMs);

describe('paceWindows', () => {
  const limits = [1, 7, 30, 59, 60, 61, 100, 299, 300, 301, 600, 2_000, 7_200];

  // GitLab counts a call when it arrives, which on a loaded host is up to a second after the pacer
  // granted it (bench/scale.js saw 301 calls in a minute at a limit of 300 with one-second windows).
  // Calls granted within any 61 s must then stay within the limit, or some minute GitLab sees is over.
  it.each(limits)('grants at most %i requests and notes in any 61 s', (perMinute) => {
    const w = paceWindows({ requestsPerMinute: perMinute, notesPerMinute: perMinute, searchesPerMinute: 30 });
    expect(mostIn(61_000, w.request)).toBeLessThanOrEqual(perMinute);
    expect(mostIn(61_000, w.note)).toBeLessThanOrEqual(perMinute);
  });

  it.each(limits.filter((l) => l >= 60))(
    'still lets through 95 in 100 of %i a minute, in bursts of about a second',
    (perMinute) => {
      const w = paceWindows({ requestsPerMinute: perMinute, notesPerMinute: perMinute, searchesPerMinute: 30 }).request;
      expect(w.limit * Math.floor(60_000 / w.intervalMs)).toBeGreaterThanOrEqual(0.95 * perMinute);
      expect(w.intervalMs).toBeLessThan(1_100);
    },
  );

  it('searches: at most the limit in any 61 s (GitLab counts them in fixed minutes)', () => {
    expect(
      mostIn(61_000, paceWindows({ requestsPerMinute: 2_000, notesPerMinute: 60, searchesPerMinute: 30 }).search),
    ).toBe(30);
  });
});

describe('localPacer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // A window that restarts at the first call after it ran out lets a call at its end and a full
  // window just after pass within one interval: three where two are allowed.
  it('never grants more than the window allows in any interval, however the calls fall', async () => {
    vi.useFakeTimers();
    const limits = { requestsPerMinute: 120, notesPerMinute: 120, searchesPerMinute: 30 };
    const { limit, intervalMs } = paceWindows(limits).request;
    const pacer = localPacer(limits, new AbortController().signal);
    const granted: number[] = [];
    const call = () => pacer.acquire('request', new AbortController().signal).then(() => granted.push(Date.now()));
    const start = Date.now();
    await call();
    await vi.advanceTimersByTimeAsync(intervalMs - 1);
    await call();
    await vi.advanceTimersByTimeAsync(2);
    const later = [call(), call()];
    await vi.advanceTimersByTimeAsync(3 * intervalMs);
    await Promise.all(later);
    const offsets = granted.map((t) => t - start);
    for (const t of offsets)
      expect(offsets.filter((u) => u >= t && u < t + intervalMs).length).toBeLessThanOrEqual(limit);
    expect(offsets).toHaveLength(4);
  });
});
