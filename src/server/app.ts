import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { sendJson, webhookHandler, type WebhookDeps } from './webhook-route.js';

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, string>;
}

export interface AppDeps extends WebhookDeps {
  metrics: Metrics;
  readiness: () => Promise<ReadinessReport>;
  /** The status page (signed in with GitLab), served after the webhook route, the probes and the metrics, which stay open. */
  status?: RequestHandler;
}

/** The request's path as express matches routes: without its query string, in any case, a final `/` allowed. */
function pathOf(url = ''): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

const HEALTHY = JSON.stringify({ status: 'ok' });
const NOT_FOUND = JSON.stringify({ error: 'not found' });
const INTERNAL = JSON.stringify({ error: 'internal error' });

/**
 * GET /healthz, /readyz and /metrics on `node:http`, beside the webhook route: the orchestrator
 * and Prometheus call them all day, and they need no framework. Null when the request is none of them.
 */
function probe(deps: AppDeps, req: IncomingMessage, res: ServerResponse): Promise<void> | null {
  if (req.method !== 'GET' && req.method !== 'HEAD') return null;
  switch (pathOf(req.url)) {
    case '/healthz':
      sendJson(res, 200, HEALTHY);
      return Promise.resolve();
    case '/readyz':
      return deps.readiness().then((report) => sendJson(res, report.ok ? 200 : 503, JSON.stringify(report)));
    case '/metrics':
      return deps.metrics.registry.metrics().then((text) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', deps.metrics.registry.contentType);
        res.setHeader('Content-Length', Buffer.byteLength(text));
        res.end(text);
      });
    default:
      return null;
  }
}

/** The status page's own express app: its router, then a clear status for anything that fails, logged. */
function statusApp(status: RequestHandler, logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(status);
  app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    const code = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    logger.error({ err, path: req.path, status: code }, 'request failed');
    res.status(code).json({ error: code === 500 ? 'internal error' : err.message });
  });
  return app;
}

/**
 * The HTTP server's request listener (`http.createServer(createApp(deps))`), on one stack:
 * `node:http`. Webhook deliveries, nearly all of the traffic, and the probes and metrics are plain
 * handlers (express cost about as much per request as a delivery's whole parse, check and durable
 * write: bench/RESULTS.md, 2026-12-03). Only the status page is an express app: a few people's
 * clicks, with signed cookies, forms, redirects and a router, where express's cost is nothing and
 * hand-written replacements of those would be the risk.
 */
export function createApp(deps: AppDeps): RequestListener {
  const webhook = webhookHandler(deps);
  const status = deps.status ? statusApp(deps.status, deps.logger) : null;
  return (req, res) => {
    // The webhook endpoint, as GitLab is configured to call it (a query string and a final `/` allowed).
    if (req.method === 'POST' && pathOf(req.url) === '/webhooks/gitlab') return webhook(req, res);
    const probed = probe(deps, req, res);
    if (probed) {
      probed.catch((err: unknown) => {
        deps.logger.error({ err, path: pathOf(req.url), status: 500 }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, INTERNAL);
        else res.destroy();
      });
    } else if (status) status(req, res);
    else sendJson(res, 404, NOT_FOUND);
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
