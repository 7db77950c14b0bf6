import { ApiError } from './api-error.js';

/**
 * GitLab's application rate limits as `Gitlab::ApplicationRateLimiter`
 * (`lib/gitlab/application_rate_limiter.rb`) counts them: a fixed window aligned to the epoch
 * (`Time.now.to_i.divmod(interval)`), one counter per key and scope (here: per user), throttled
 * once the count passes the threshold (`value > threshold_value`); a threshold of 0 means no limit.
 * A throttled API call answers as `API::Helpers::RateLimiter#check_rate_limit!`
 * (`lib/api/helpers/rate_limiter.rb`): 429, `{"error": …}`, and `Retry-After` set to the interval.
 */
export class ApplicationRateLimiter {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly threshold: number,
    private readonly intervalSeconds: number,
    /** Real time, not the fake's business clock: a limit is about how fast calls arrive. */
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts one call by this user; throws GitLab's 429 once the window's count passes the threshold. */
  check(userId: number): void {
    if (this.threshold === 0) return;
    const period = Math.floor(this.clock() / 1000 / this.intervalSeconds);
    const key = `${userId}:${period}`;
    const value = (this.counts.get(key) ?? 0) + 1;
    // Only the current window matters: earlier counters expire (GitLab lets Redis expire them).
    for (const k of this.counts.keys()) if (!k.endsWith(`:${period}`)) this.counts.delete(k);
    this.counts.set(key, value);
    if (value > this.threshold) {
      throw new ApiError(429, { error: 'This endpoint has been requested too many times. Try again later.' }, { 'Retry-After': String(this.intervalSeconds) });
    }
  }
}
