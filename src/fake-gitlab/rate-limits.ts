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
      throw new ApiError(
        429,
        { error: 'This endpoint has been requested too many times. Try again later.' },
        { 'Retry-After': String(this.intervalSeconds) },
      );
    }
  }
}

/**
 * A Rack::Attack throttle as GitLab configures it (lib/gitlab/rack_attack.rb,
 * `throttle_authenticated_api`: per user, `limit` requests per `period` seconds in windows aligned
 * to the epoch, as Rack::Attack keys its counters by `now / period`), reporting on every answer the
 * headers of `Gitlab::RackAttack::RequestThrottleData#common_response_headers`
 * (lib/gitlab/rack_attack/request_throttle_data.rb, "for all requests (both throttled and
 * unthrottled)"; docs.gitlab.com "User and IP rate limits", "Response headers"). It counts and
 * reports only: refusing with 429 is left to the fake's faults.
 */
export class RackAttackThrottle {
  private window = { period: -1, counts: new Map<number, number>() };

  constructor(
    private readonly name: string,
    private readonly limit: number,
    private readonly periodSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts one request by this user and returns the headers GitLab adds to its answer. */
  count(userId: number): Record<string, string> {
    const now = Math.floor(this.clock() / 1000);
    const period = Math.floor(now / this.periodSeconds);
    if (period !== this.window.period) this.window = { period, counts: new Map() };
    const observed = (this.window.counts.get(userId) ?? 0) + 1;
    this.window.counts.set(userId, observed);
    const retryAfter = this.periodSeconds - (now % this.periodSeconds);
    return {
      'RateLimit-Name': this.name,
      // Normalised to a minute, rounded up (`rounded_limit`).
      'RateLimit-Limit': String(Math.ceil((this.limit * 60) / this.periodSeconds)),
      'RateLimit-Observed': String(observed),
      'RateLimit-Remaining': String(Math.max(0, this.limit - observed)),
      'RateLimit-Reset': String(now + retryAfter),
    };
  }
}
