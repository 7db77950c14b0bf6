import cookieParser from 'cookie-parser';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { FieldValue } from '../domain/request.js';
import {
  filterRows,
  poolRows,
  requestRows,
  teamRows,
  weeklyOpened,
  type RequestFilter,
  type RequestRow,
} from './board.js';
import { barChart } from './charts.js';
import { StatusData, type StatusSources, type WhyModel } from './data.js';
import { renderPage, STYLESHEET } from './render.js';
import { clearSession, csrfToken, csrfValid, type Session } from './session.js';
import { STATUS_VARIABLES, type StatusSettings } from './settings.js';
import { requireMember, signInRouter, type SignInDeps } from './sign-in.js';

export interface StatusDeps extends StatusSources {
  /** Null: the page is off and says how to turn it on. */
  settings: StatusSettings | null;
  gitlabUrl: string;
  projectName: () => string;
  accessLevel: SignInDeps['accessLevel'];
  logger: Logger;
  /** A dead letter was re-queued: wake the worker. */
  onRetried: () => void;
  /** The read-only queue dashboard (SCALE_BOT_QUEUE_DASHBOARD), served only to signed-in members; null when off. */
  queueDashboard: RequestHandler | null;
}

/** Where the queue dashboard is served (the page's sign-in redirects and links are site-absolute: it is at the root). */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** Confidential pages: never cached, framed, or allowed to load anything but their own stylesheet. */
function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy':
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
  });
  next();
}

function page(res: Response, name: string, model: Record<string, unknown>): void {
  const session = res.locals.session as Session | undefined;
  res.type('html').send(
    renderPage(name, {
      ...model,
      session,
      csrf: session ? csrfToken(session) : null,
      manager: res.locals.manager === true,
    }),
  );
}

function message(res: Response, title: string, text: string, extra: Record<string, unknown> = {}): void {
  page(res, 'message', { title, message: text, ...extra });
}

/** Without sign-in configured the page stays off, and says how to turn it on. */
function pageIsOff(_req: Request, res: Response): void {
  res.status(503);
  message(
    res,
    'The status page is off',
    'Sign-in with GitLab is not configured, so the page stays off (it shows customer names and ARR).',
    {
      help: 'Register scale-bot as an OAuth application in GitLab (scope read_user, callback <public URL>/auth/callback) and set these four variables, then restart:',
      variables: [...STATUS_VARIABLES],
    },
  );
}

/** The status page at `/` (Team, Requests, Why, The bot) behind GitLab sign-in; see README "Status page". */
export function statusRouter(deps: StatusDeps): Router {
  const router = Router();
  router.use(securityHeaders);
  router.get('/status.css', (_req, res) => res.sendFile(STYLESHEET));
  if (!deps.settings) {
    router.get('/', pageIsOff);
    return router;
  }
  const denied = (res: Response, reason: string) => {
    if (res.statusCode < 400) res.status(403);
    message(res, 'You cannot see this page', reason, { signIn: res.statusCode === 401 });
  };
  const signIn: SignInDeps = {
    settings: deps.settings,
    gitlabUrl: deps.gitlabUrl,
    projectName: deps.projectName,
    accessLevel: deps.accessLevel,
    denied,
    logger: deps.logger,
    now: () => deps.now().getTime(),
  };
  const data = new StatusData(deps);
  router.use(cookieParser(deps.settings.sessionSecret));
  router.use(signInRouter(signIn));
  const member = requireMember(signIn);
  const manager = (_req: Request, res: Response, next: NextFunction) => {
    res.locals.manager =
      deps.config.person((res.locals.session as Session).username)?.roles.includes('manager') ?? false;
    next();
  };
  const signedIn = [member, manager];
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const csrf = (req: Request, res: Response, next: NextFunction) =>
    csrfValid(res.locals.session as Session, (req.body as Record<string, unknown> | undefined)?.csrf)
      ? next()
      : denied(res, 'The form was not sent from this page (or it expired). Reload the page and try again.');

  router.post('/auth/sign-out', signedIn, form, csrf, (_req: Request, res: Response) => {
    clearSession(res);
    res.locals.session = undefined;
    message(res, 'Signed out', 'You are signed out of the status page.', { signIn: true });
  });
  router.get('/', signedIn, (_req: Request, res: Response) => teamPage(deps, res));
  router.get('/requests', signedIn, async (req: Request, res: Response) => requestsPage(deps, data, req, res));
  router.get('/requests/:iid/why', signedIn, async (req: Request, res: Response) => {
    const iid = Number(req.params.iid);
    if (!Number.isInteger(iid) || iid <= 0)
      return message(res.status(404), 'No such request', `"${req.params.iid}" is no issue number.`);
    whyPage(res, await data.why(iid), deps);
  });
  const dashboard = deps.queueDashboard ? QUEUE_DASHBOARD_PATH : null;
  router.get('/bot', signedIn, async (req: Request, res: Response) => botPage(data, dashboard, req, res));
  router.post('/bot/dead-letters/:id/retry', signedIn, form, csrf, async (req: Request, res: Response) =>
    retryDeadLetter(deps, denied, req, res),
  );
  if (deps.queueDashboard) router.use(QUEUE_DASHBOARD_PATH, signedIn, deps.queueDashboard);
  return router;
}

/** The bot's health and dead letters (and a link to the queue dashboard when it is on); after a retry, a notice naming the job queued again. */
async function botPage(data: StatusData, dashboard: string | null, req: Request, res: Response): Promise<void> {
  const retried =
    typeof req.query.retried === 'string' && /^\d+$/.test(req.query.retried)
      ? `Job ${req.query.retried} is queued again.`
      : null;
  page(res, 'bot', { title: 'The bot', section: 'bot', notice: retried, dashboard, ...(await data.bot()) });
}

/** A manager re-queues a dead letter (the form on /bot), then sees /bot again with a notice. */
async function retryDeadLetter(
  deps: StatusDeps,
  denied: (res: Response, reason: string) => void,
  req: Request,
  res: Response,
): Promise<void> {
  const session = res.locals.session as Session;
  if (res.locals.manager !== true)
    return denied(
      res,
      `Only managers may retry dead letters; @${session.username} has no manager role in the configuration.`,
    );
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || !(await deps.inbox.retryFailed(id, deps.now().getTime())))
    return message(res.status(404), 'No such dead letter', `Job ${req.params.id} is not a dead letter (any more).`);
  deps.logger.info({ job: id, by: session.username }, 'dead letter re-queued from the status page');
  deps.onRetried();
  res.redirect(303, `/bot?retried=${id}`);
}

async function teamPage(deps: StatusDeps, res: Response): Promise<void> {
  await deps.routing.ready();
  const now = deps.now();
  const workload = await deps.routing.workload();
  const team = teamRows(deps.config, workload, now);
  const loadChart = barChart(
    'Open engagements per CSE against capacity',
    team.map((t) => ({ label: t.username, value: t.open, limit: t.capacity })),
    'open engagements',
  );
  page(res, 'team', {
    title: 'Team',
    section: 'team',
    team,
    pools: poolRows(deps.config, workload, now),
    loadChart,
    today: now.toISOString().slice(0, 10),
  });
}

async function requestsPage(deps: StatusDeps, data: StatusData, req: Request, res: Response): Promise<void> {
  const now = deps.now();
  const histories = await data.histories();
  const all = requestRows(histories, deps.config, now);
  const pick = (name: string) =>
    typeof req.query[name] === 'string' && req.query[name] !== '' ? (req.query[name] as string) : undefined;
  const filter: RequestFilter = {
    segment: pick('segment'),
    region: pick('region'),
    state: pick('state'),
    cse: pick('cse'),
  };
  const rows = filterRows(all, filter);
  const weekly = weeklyOpened(histories, now);
  page(res, 'requests', {
    title: 'Requests',
    section: 'requests',
    rows,
    total: all.length,
    filters: filterOptions(deps, all, filter),
    weeklyChart: barChart(
      'Requests opened per ISO week',
      weekly.map((w) => ({ label: w.label, value: w.count })),
      'requests',
    ),
  });
}

function filterOptions(deps: StatusDeps, rows: RequestRow[], filter: RequestFilter) {
  const { config } = deps;
  const option =
    (chosen: string | undefined) =>
    (value: string, text = value) => ({ value, text, selected: chosen === value });
  const states = [...new Set(rows.map((r) => r.state))].sort();
  const cses = config.people.filter((p) => p.roles.includes('cse')).map((p) => p.username);
  return [
    {
      name: 'segment',
      label: 'Segment',
      options: Object.entries(config.segments).map(([id, s]) => option(filter.segment)(id, s.name ?? id)),
    },
    {
      name: 'region',
      label: 'Region',
      options: Object.entries(config.regions).map(([id, r]) => option(filter.region)(id, r.name ?? id)),
    },
    { name: 'state', label: 'State', options: states.map((s) => option(filter.state)(s)) },
    { name: 'cse', label: 'CSE', options: cses.map((u) => option(filter.cse)(u)) },
  ];
}

const display = (value: FieldValue | null): string =>
  value === null
    ? '—'
    : Array.isArray(value)
      ? value.join(', ')
      : typeof value === 'boolean'
        ? value
          ? 'yes'
          : 'no'
        : String(value);

function whyPage(res: Response, why: WhyModel, deps: StatusDeps): void {
  const { request, qualification, routing } = why.analysis;
  const version = request.form
    ? deps.config.forms
        .find((f) => f.id === request.form!.id)
        ?.versions.find((v) => v.version === request.form!.version)
    : undefined;
  page(res, 'why', {
    title: `Why: #${why.iid}`,
    section: 'requests',
    iid: why.iid,
    issueTitle: why.title,
    url: why.url,
    plan: why.plan,
    notes: [
      ...why.plan.notes.map((n) => `${n.action} ${n.key}`),
      ...why.plan.deleteNotes.map((n) => `delete ${n.key}`),
    ],
    form: request.form ? `${request.form.title} (${request.form.id} v${request.form.version})` : null,
    fields: (version?.fields ?? []).map((f) => ({ label: f.label, value: display(request.fields[f.id] ?? null) })),
    problems: request.problems.map((p) => `${p.label ?? 'Description'}: ${p.message}`),
    qualification,
    routing,
  });
}
