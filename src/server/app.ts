import { createServer, type RequestListener, type Server } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Metrics } from '../metrics/metrics.js';
import { isWebhookPath, webhookHandler, type WebhookDeps } from './webhook-route.js';

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, string>;
}

export interface AppDeps extends WebhookDeps {
  metrics: Metrics;
  readiness: () => Promise<ReadinessReport>;
  /** The status page (signed in with GitLab), mounted after the probes and metrics, which stay open. */
  status?: RequestHandler;
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
  if (deps.status) app.use(deps.status);
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

export interface ServerTimeouts {
  /** The whole request, headers and body, must arrive within this (slow senders are cut off). */
  requestMs: number;
  headersMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveMs: number;
  /** How often Node looks for requests past their timeouts (its default, 30 s, let them run 40 s and more). */
  checkEveryMs: number;
}

/**
 * GitLab gives up on a webhook after its timeout (10 s by default, `webhook_timeout`), so a request
 * still arriving after 15 s is no delivery GitLab waits for: its connection is closed.
 */
export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  requestMs: 15_000,
  headersMs: 10_000,
  keepAliveMs: 5_000,
  checkEveryMs: 1_000,
};

/** The HTTP server for `createApp`'s listener, listening on port and host. */
export function createWebhookServer(
  listener: RequestListener,
  port: number,
  host: string,
  timeouts: Partial<ServerTimeouts> = {},
): Promise<Server> {
  const t = { ...DEFAULT_SERVER_TIMEOUTS, ...timeouts };
  return new Promise<Server>((resolveServer, reject) => {
    const s = createServer(
      {
        requestTimeout: t.requestMs,
        headersTimeout: Math.min(t.headersMs, t.requestMs),
        connectionsCheckingInterval: t.checkEveryMs,
      },
      listener,
    ).listen(port, host, () => resolveServer(s));
    // Keep-alive sockets must not hold shutdown hostage either.
    s.keepAliveTimeout = t.keepAliveMs;
    s.once('error', reject);
  });
}
