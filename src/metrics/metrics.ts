import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The bot's Prometheus metrics, on a registry of its own (no global state between instances).
 * Below everything that counts: the webhook route, the worker and the GitLab requester each take
 * their counters from here; `/metrics` serves the registry.
 */
export interface Metrics {
  registry: Registry;
  deliveries: Counter<'event' | 'outcome'>;
  queueDepth: Gauge<'status'>;
  jobDuration: Histogram<'outcome'>;
  jobLatency: Histogram;
  gitlabCalls: Counter<'endpoint' | 'method' | 'status'>;
  rateLimitWait: Counter;
}

export function createMetrics(depth?: () => Record<string, number> | Promise<Record<string, number>>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'scale_bot_' });
  return {
    registry,
    deliveries: new Counter({
      name: 'scale_bot_webhook_deliveries_total',
      help: 'Webhook deliveries received, by X-Gitlab-Event (handled events; other for the rest and before authentication) and outcome',
      labelNames: ['event', 'outcome'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'scale_bot_queue_jobs',
      help: 'Per-issue jobs in the inbox, by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        if (!depth) return;
        for (const [status, n] of Object.entries(await depth())) this.set({ status }, n);
      },
    }),
    jobDuration: new Histogram({
      name: 'scale_bot_job_duration_seconds',
      help: 'Time to process one per-issue pass, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    jobLatency: new Histogram({
      name: 'scale_bot_job_latency_seconds',
      help: 'Time from the first delivery of a pass to the end of that pass',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    gitlabCalls: new Counter({
      name: 'scale_bot_gitlab_requests_total',
      help: 'GitLab API requests, by endpoint, method and status',
      labelNames: ['endpoint', 'method', 'status'],
      registers: [registry],
    }),
    rateLimitWait: new Counter({
      name: 'scale_bot_gitlab_rate_limit_wait_seconds_total',
      help: 'Seconds spent waiting on rate limits (own pacing and Retry-After)',
      registers: [registry],
    }),
  };
}
