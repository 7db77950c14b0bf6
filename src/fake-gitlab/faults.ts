import type { RequestHandler, Response } from 'express';

/**
 * Latency and injected failures for resilience tests: a rate limit (429 with `Retry-After`, the
 * body GitLab's Rack::Attack sends), a refusal (403), a failed validation (400), a server error, a request that is never answered, one whose
 * answer is lost after it was served, or a race with another user.
 */

export type Fault =
  /**
   * Rack::Attack's throttled answer as GitLab configures it (`Gitlab::RackAttack.configure`,
   * lib/gitlab/rack_attack.rb): 429, text/plain "Retry later\n"; GitLab always adds `Retry-After`
   * (seconds to the window's end) and `RateLimit-*` (`throttled_response_headers`), here only the
   * `Retry-After` a test gives.
   */
  | { status: 429; retryAfter?: number }
  | { status: 500 | 502 | 503 }
  /** The bot lost access (its role was removed): GitLab's `forbidden!` answer. */
  | { status: 403 }
  /** A validation GitLab fails (a note too long, see `state.ts`): 400 with GitLab's body. */
  | { status: 400; body: Record<string, unknown> }
  | { hang: true }
  /** The request is served (a write lands) but its answer is lost: the proxy in front answers 502. */
  | { lost: true }
  /** Someone else changes GitLab just before this request is served (an issue deleted mid-pass). */
  | { before: () => void };

export interface FaultMatcher {
  /** HTTP method, any case; any method when omitted. */
  method?: string;
  /** Tested against the request path, e.g. `/api/v4/projects/1/issues/3/notes` (no query). */
  path?: RegExp;
}

interface Rule {
  matcher: FaultMatcher;
  fault: Fault;
  remaining: number;
}

export class Faults {
  latencyMs = 0;
  private readonly rules: Rule[] = [];
  /** Responses held open by `{ hang: true }`, destroyed on stop. */
  readonly hanging = new Set<Response>();

  add(matcher: FaultMatcher, fault: Fault, times: number): void {
    if (times > 0) this.rules.push({ matcher, fault, remaining: times });
  }

  /** The first matching fault, used up once. */
  private take(method: string, path: string): Fault | null {
    const index = this.rules.findIndex(
      ({ matcher }) =>
        (matcher.method === undefined || matcher.method.toUpperCase() === method) &&
        (matcher.path === undefined || matcher.path.test(path)),
    );
    const rule = this.rules[index];
    if (!rule) return null;
    if (--rule.remaining === 0) this.rules.splice(index, 1);
    return rule.fault;
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      const act = () => {
        const fault = this.take(req.method, req.path);
        if (fault === null) return next();
        if ('before' in fault) {
          fault.before();
          return next();
        }
        if ('lost' in fault) {
          res.json = () => res.status(502).type('text/html').send('<html><body><h1>502 Bad Gateway</h1></body></html>');
          return next();
        }
        if ('hang' in fault) {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        if (fault.status === 429) {
          if (fault.retryAfter !== undefined) res.set('Retry-After', String(fault.retryAfter));
          res.status(429).type('text/plain').send('Retry later\n');
        } else if (fault.status === 400) {
          res.status(400).json(fault.body);
        } else if (fault.status === 403) {
          res.status(403).json({ message: '403 Forbidden' });
        } else if (fault.status === 500) {
          res.status(500).json({ message: '500 Internal Server Error' });
        } else {
          res
            .status(fault.status)
            .type('text/html')
            .send(
              `<html><body><h1>${fault.status === 502 ? '502 Bad Gateway' : '503 Service Unavailable'}</h1></body></html>`,
            );
        }
      };
      if (this.latencyMs > 0) setTimeout(act, this.latencyMs);
      else act();
    };
  }

  /** Ends every held request by dropping its connection. */
  release(): void {
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
  }
}
