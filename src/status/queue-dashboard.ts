import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { QUEUE_DASHBOARD_PATH } from './routes.js';

/**
 * bull-board's UI: its own scripts and stylesheet, inline styles on its loading screen, its API
 * over fetch, and `<base href>` to the dashboard path. Nothing from elsewhere (its Google Fonts
 * link is refused; the page falls back to system fonts), never framed, never cached.
 */
function dashboardHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy':
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'self'",
    'Cache-Control': 'no-store',
  });
  next();
}

/**
 * Only reads reach bull-board. Its actions (retry, clean, promote, add, pause, empty, obliterate)
 * would bypass the inbox's rules: one job per issue, the per-issue lease, the retry count the
 * worker keeps in the job. Dead letters are retried from the Bot tab (managers) or with
 * `scale-bot inbox retry`, which keep them. bull-board's read-only mode refuses them too and hides
 * their buttons; this holds whatever a future version of its routes adds.
 */
function readsOnly(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  res.set('Allow', 'GET, HEAD').status(405).json({ error: 'the queue dashboard is read-only' });
}

/**
 * The BullMQ queues of the Redis mode in bull-board, read-only, for the status page to mount at
 * QUEUE_DASHBOARD_PATH behind its sign-in (it is nothing without that: the caller checks). Loaded
 * only when the dashboard is on: bull-board takes some 200 ms to import.
 */
export function queueDashboard(queues: readonly Queue[]): Express {
  const board = new ExpressAdapter().setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'scale-bot queues' } },
  });
  const ui = board.getRouter() as Express;
  const app = express();
  for (const a of [app, ui]) a.disable('x-powered-by');
  app.use(dashboardHeaders, readsOnly, ui);
  // Nothing falls through to the status page's own routes.
  app.use((_req: Request, res: Response) => res.status(404).json({ error: 'not found' }));
  return app;
}
