import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Metrics } from './metrics.js';
import { isWebhookPath, webhookHandler, type WebhookDeps } from './webhook-route.js';

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, string>;
}

export interface AppDeps extends WebhookDeps {
  metrics: Metrics;
  readiness: () => Promise<ReadinessReport>;
}

/**
 * The HTTP server's request listener (`http.createServer(createApp(deps))`). Webhook deliveries,
 * nearly all of the traffic, go straight to their `node:http` handler; the probes, the metrics and
 * anything else go to express.
 */
export function createApp(deps: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
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
  // Anything unexpected: a clear status, logged.
  app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    deps.logger.error({ err, path: req.path, status }, 'request failed');
    res.status(status).json({ error: status === 500 ? 'internal error' : err.message });
  });
  const webhook = webhookHandler(deps);
  return (req, res) => {
    if (req.method === 'POST' && isWebhookPath(req.url)) webhook(req, res);
    else app(req, res);
  };
}
