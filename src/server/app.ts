import express, { type NextFunction, type Request, type Response } from 'express';
import type { Metrics } from './metrics.js';
import { webhookHandler, type WebhookDeps } from './webhook-route.js';

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, string>;
}

export interface AppDeps extends WebhookDeps {
  metrics: Metrics;
  readiness: () => Promise<ReadinessReport>;
}

/** GitLab sends up to 25 MB; express's 100 kB default would reject real deliveries. */
export const MAX_BODY = '25mb';

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.post('/webhooks/gitlab', express.raw({ type: () => true, limit: MAX_BODY }), webhookHandler(deps));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await deps.readiness();
    res.status(report.ok ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  // Body-parser errors (too large, aborted) and anything unexpected: a clear status, logged.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    deps.logger.error({ err, path: req.path, status }, 'request failed');
    if (req.path === '/webhooks/gitlab') deps.metrics.deliveries.inc({ event: String(req.headers['x-gitlab-event'] ?? '(none)'), outcome: 'error' });
    res.status(status).json({ error: status === 413 ? 'body too large' : status === 500 ? 'internal error' : err.message });
  });
  return app;
}
