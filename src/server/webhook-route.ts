import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import getRawBody from 'raw-body';
import {
  isHandledEvent,
  isOtherWorkItem,
  isOwnEvent,
  parseWebhook,
  pushHookSchema,
  type WebhookEvent,
} from '../gitlab/webhook-schemas.js';
import { GroupCommit, type GroupCommitOptions } from '../queue/group-commit.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AcceptResult, Inbox, IssueRef } from '../queue/inbox.js';
import { BodyBudget } from './body-budget.js';
import { tokenMatches, verifySignature } from './verify.js';

export interface WebhookSettings {
  /** The hook's secret token, checked against `X-Gitlab-Token`; null when deliveries are only signed. */
  secret: string | null;
  /** Standard Webhooks signing key; when set, every delivery must carry a valid signature. */
  signingKey: string | null;
  /** The request project, by numeric id and/or `path_with_namespace`. */
  project: { id: number | null; path: string | null };
  /** The bot's own username: its events are ignored so its writes never loop. */
  botUsername: () => string;
  /** The bot user's id (null until GitLab has told it): tells the bot's note edits from people's. */
  botUserId: () => number | null;
}

export interface WebhookDeps {
  inbox: Inbox;
  settings: WebhookSettings;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  /** Called after a delivery is queued, to wake the worker. */
  onQueued: () => void;
  /**
   * Called when the store could not take a delivery and it was answered 503, with when it was
   * received: GitLab does not redeliver, so the service reconciles what was updated since.
   */
  onRefused?: (receivedAt: number) => void;
  /** Waiting for a refusing store (tests shorten it). */
  commits?: Partial<GroupCommitOptions>;
  /** Request bodies held in memory at once, in bytes. */
  bodyBytesInFlight?: number;
  /** A push to the project's default branch: the configuration may have changed (called, not awaited). */
  onDefaultBranchPush?: () => void;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The `event` label of a delivery: one of the events the bot handles, else `other`. Labels come
 * from a fixed set, so no sender can add series (each costs memory for the life of the process).
 */
function eventLabel(event: string): string {
  return isHandledEvent(event) ? event : 'other';
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Writes a JSON answer: the same status, body and Content-Type as `res.status(status).json(body)`,
 * without express's send machinery (an ETag hashed over every answer, the body turned into a
 * Buffer and written separately from the headers). GitLab never revalidates webhook answers.
 */
export function sendJson(res: ServerResponse, status: number, json: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

/** Answers that never vary, serialised once. */
const UNAUTHORIZED = JSON.stringify({ error: 'unauthorized' });
const MALFORMED = JSON.stringify({ error: 'body is not valid JSON' });
const WRONG_PROJECT = JSON.stringify({ error: 'this hook belongs to another project' });
const OWN_EVENT = JSON.stringify({ status: 'ignored', reason: "the bot's own event" });
const NOT_ISSUE = JSON.stringify({ status: 'ignored', reason: 'not about an issue' });
const WORK_ITEM = JSON.stringify({ status: 'ignored', reason: 'a work item that is not an issue (task, epic, …)' });

/** One delivery's event name, its lazily created logger and the way to answer it. */
interface DeliveryContext {
  /** The raw `X-Gitlab-Event`. */
  event: string;
  /** The delivery proved it comes from GitLab: its event may now label the metric. */
  authenticated: () => void;
  logger: () => Logger;
  answer: (status: number, outcome: string, json: string) => void;
}

/** GitLab sends bodies up to 25 MB. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

/**
 * Bodies buffered at once: two of the largest GitLab sends, or many ordinary ones. Past it,
 * further bodies wait unread (their senders are held back by TCP) instead of growing memory.
 */
export const MAX_BODY_BYTES_IN_FLIGHT = 2 * MAX_BODY_BYTES;

const TOO_LARGE = JSON.stringify({ error: 'body too large' });
const INTERNAL = JSON.stringify({ error: 'internal error' });
const UNAVAILABLE = JSON.stringify({ error: 'the inbox cannot take deliveries now; updates since will be reconciled' });

/**
 * POST /webhooks/gitlab, as a plain `node:http` handler: the app routes the endpoint here before
 * any framework sees the request (express's per-request work cost about as much as a webhook's
 * parse, check and durable write together; bench/RESULTS.md, 2026-12-03). Reads the body
 * (raw-body, as body-parser does), verifies, validates and persists the delivery, then answers at
 * once; no GitLab call happens here. Only a misconfigured hook gets a 4xx: GitLab disables hooks
 * that fail.
 *
 * Logging: one "webhook answered" line per delivery, from a child logger keyed by its delivery id
 * (created only when a line is written). Queued deliveries, the bulk of the traffic, log at debug;
 * every other outcome (rejections, duplicates, ignored events) at info, signature failures and
 * unreadable bodies at warn, unexpected errors at error.
 */
export function webhookHandler(deps: WebhookDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const route = new WebhookRoute(deps);
  return (req, res) => route.handle(req, res);
}

/** The stages of one delivery, in the order it passes them: headers, body, signature, parse, checks, store. */
class WebhookRoute {
  private readonly settings: WebhookSettings;
  private readonly commits: GroupCommit;
  private readonly budget: BodyBudget;

  constructor(private readonly deps: WebhookDeps) {
    this.settings = deps.settings;
    // The server's connection takes every webhook write: its WAL checkpoints run off the event loop.
    deps.inbox.checkpointInBackground?.();
    this.commits = new GroupCommit(deps.inbox, deps.now, deps.commits);
    this.budget = new BodyBudget(deps.bodyBytesInFlight ?? MAX_BODY_BYTES_IN_FLIGHT);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const context = this.context(req, res);
    const announced = this.checkHeaders(req, res, context);
    if (announced !== null) this.readBody(req, res, context, announced);
  }

  /** The delivery's event label, lazily created logger and way to answer (each answer counted and logged). */
  private context(req: IncomingMessage, res: ServerResponse): DeliveryContext {
    const { deps } = this;
    // Until the delivery is authenticated, nothing from its headers is kept: the metric's label is
    // one of a fixed set, and the log line names the label, not the raw header.
    const rawEvent = header(req, 'x-gitlab-event') ?? '(none)';
    let event = 'other';
    // Idempotency-Key names the delivery across GitLab's retries; X-Gitlab-Event-UUID is shared by a chain of hooks.
    const deliveryId =
      header(req, 'idempotency-key') ??
      header(req, 'x-gitlab-webhook-uuid') ??
      header(req, 'x-gitlab-event-uuid') ??
      null;
    let log: Logger | undefined;
    const logger = () => (log ??= deps.logger.child({ delivery: deliveryId, event }));
    const answer = (status: number, outcome: string, json: string) => {
      deps.metrics.deliveries.inc({ event, outcome });
      if (outcome === 'queued') {
        if (deps.logger.isLevelEnabled('debug')) logger().debug({ status, outcome }, 'webhook answered');
      } else logger().info({ status, outcome }, 'webhook answered');
      sendJson(res, status, json);
    };
    const authenticated = () => {
      event = eventLabel(rawEvent);
    };
    return { event: rawEvent, authenticated, logger, answer };
  }

  /** What the headers alone decide; the body's announced length when it is to be read, else null (answered). */
  private checkHeaders(req: IncomingMessage, res: ServerResponse, { authenticated, answer }: DeliveryContext) {
    const { secret } = this.settings;
    // The secret token is a header: a request without it is answered before its body is read, and
    // the connection closed rather than kept for a body nobody wants.
    if (secret !== null && !tokenMatches(header(req, 'x-gitlab-token'), secret)) {
      res.setHeader('Connection', 'close');
      answer(401, 'unauthorized', UNAUTHORIZED);
      return null;
    }
    if (secret !== null) authenticated();
    // GitLab never compresses webhook bodies; a compressed one is a sender this bot does not know.
    const encoding = header(req, 'content-encoding')?.toLowerCase();
    if (encoding !== undefined && encoding !== 'identity') {
      req.resume();
      answer(415, 'unreadable', JSON.stringify({ error: `unsupported content encoding "${encoding.slice(0, 40)}"` }));
      return null;
    }
    const length = header(req, 'content-length');
    const announced = length !== undefined && /^\d+$/.test(length) ? Number(length) : MAX_BODY_BYTES;
    if (announced > MAX_BODY_BYTES) {
      res.setHeader('Connection', 'close');
      answer(413, 'too-large', TOO_LARGE);
      return null;
    }
    return announced;
  }

  /** Reads the body once its bytes fit in the budget, then receives it. */
  private readBody(req: IncomingMessage, res: ServerResponse, context: DeliveryContext, announced: number): void {
    const { logger, answer } = context;
    void this.budget.reserve(announced).then((release) => {
      res.once('close', release);
      if (req.destroyed) return release();
      getRawBody(req, { limit: MAX_BODY_BYTES, length: header(req, 'content-length') }, (err, raw) => {
        if (err) {
          const status = err.status >= 400 && err.status < 500 ? err.status : 400;
          logger().warn({ reason: err.message, status }, 'webhook body unreadable');
          // Read off the rest, so the connection stays usable (as body-parser does).
          req.resume();
          answer(
            status,
            status === 413 ? 'too-large' : 'unreadable',
            status === 413 ? TOO_LARGE : JSON.stringify({ error: err.message }),
          );
          return;
        }
        this.receive(req, raw, context).catch((e: unknown) => failed(e, context, res));
      });
    });
  }

  private async receive(req: IncomingMessage, raw: Buffer, context: DeliveryContext): Promise<void> {
    if (!this.signatureValid(req, raw, context)) return;
    context.authenticated();
    if (context.event === 'Push Hook') {
      this.receivePush(raw, context.answer);
      return;
    }
    const hook = parseHook(context.event, raw, context.answer);
    if (hook === null) return;
    const iid = this.issueToPass(hook, context.answer);
    if (iid === null) return;
    await this.persist(req, raw, { projectId: hook.projectId, iid }, context);
  }

  /** With a signing key set, every delivery must carry a valid Standard Webhooks signature. */
  private signatureValid(req: IncomingMessage, raw: Buffer, { logger, answer }: DeliveryContext): boolean {
    if (this.settings.signingKey === null) return true;
    const check = verifySignature(
      {
        id: header(req, 'webhook-id'),
        timestamp: header(req, 'webhook-timestamp'),
        signature: header(req, 'webhook-signature'),
      },
      raw,
      this.settings.signingKey,
      Math.floor(this.deps.now() / 1000),
    );
    if (check.ok) return true;
    logger().warn({ reason: check.reason }, 'webhook signature rejected');
    answer(401, 'bad-signature', UNAUTHORIZED);
    return false;
  }

  /** The id once known (a project's path can change and be reused); the path until then. */
  private isOurProject(project: { id: number; path_with_namespace?: string | undefined }): boolean {
    const { id, path } = this.settings.project;
    return id !== null
      ? project.id === id
      : path !== null && project.path_with_namespace?.toLowerCase() === path.toLowerCase();
  }

  /** Nothing is queued for a push: a push to the default branch starts a configuration check, which the periodic one backs up. */
  private receivePush(raw: Buffer, answer: DeliveryContext['answer']): void {
    let parsed: ReturnType<typeof pushHookSchema.safeParse>;
    try {
      parsed = pushHookSchema.safeParse(JSON.parse(raw.toString('utf8')));
    } catch {
      answer(400, 'malformed', MALFORMED);
      return;
    }
    if (!parsed.success) {
      answer(400, 'invalid', JSON.stringify({ error: 'body does not match the GitLab Push Hook schema' }));
      return;
    }
    const push = parsed.data;
    if (!this.isOurProject(push.project)) {
      answer(403, 'wrong-project', WRONG_PROJECT);
      return;
    }
    const onPush = this.deps.onDefaultBranchPush;
    if (!push.project.default_branch || push.ref !== `refs/heads/${push.project.default_branch}` || !onPush) {
      answer(202, 'ignored', JSON.stringify({ status: 'ignored', reason: 'not a push to the default branch' }));
      return;
    }
    onPush();
    answer(202, 'config-check', JSON.stringify({ status: 'configuration check started', commit: push.after }));
  }

  /** The issue a pass is queued for, or null (answered) for another project, the bot's own event or no issue. */
  private issueToPass(hook: WebhookEvent, answer: DeliveryContext['answer']): number | null {
    if (!this.isOurProject(hook.body.project)) {
      answer(403, 'wrong-project', WRONG_PROJECT);
      return null;
    }
    if (isOwnEvent(hook, { username: this.settings.botUsername(), id: this.settings.botUserId() })) {
      answer(202, 'ignored', OWN_EVENT);
      return null;
    }
    if (hook.iid === null) answer(202, 'ignored', NOT_ISSUE);
    return hook.iid;
  }

  /** The delivery's dedup key: what names it across GitLab's retries, else a hash of what was sent. */
  private deliveryKey(req: IncomingMessage, raw: Buffer): string {
    // A signed delivery is named by its webhook-id, which the signature covers; Idempotency-Key is
    // not signed, so a captured delivery replayed with a new one would otherwise be taken again.
    const signedId = this.settings.signingKey !== null ? header(req, 'webhook-id') : undefined;
    return (
      (signedId !== undefined ? `webhook-id:${signedId}` : undefined) ??
      header(req, 'idempotency-key') ??
      createHash('sha256')
        .update(header(req, 'x-gitlab-event-uuid') ?? '')
        .update('\n')
        .update(raw)
        .digest('hex')
    );
  }

  /** Stores the delivery durably (group commit), then answers: queued, duplicate, or 503 when the store refuses. */
  private async persist(req: IncomingMessage, raw: Buffer, issue: IssueRef, context: DeliveryContext): Promise<void> {
    const { logger, answer } = context;
    const receivedAt = this.deps.now();
    let result: AcceptResult;
    try {
      result = await this.commits.accept({
        key: this.deliveryKey(req, raw),
        event: context.event,
        uuid: header(req, 'x-gitlab-event-uuid') ?? null,
        // The bytes as received: stored as a BLOB, no second decode and re-encode of the body.
        body: raw,
        issue,
        receivedAt,
      });
    } catch (err) {
      // GitLab does not redeliver: a 5xx only pauses the hook (a 4xx would disable it until a
      // Maintainer re-enables it). The service reconciles what was updated since this delivery.
      logger().error({ err: (err as Error).message }, 'inbox refused the delivery');
      this.deps.onRefused?.(receivedAt);
      answer(503, 'refused', UNAVAILABLE);
      return;
    }
    if (result.duplicate) {
      answer(200, 'duplicate', JSON.stringify({ status: 'duplicate', delivery: result.deliveryId }));
      return;
    }
    this.deps.onQueued();
    answer(202, 'queued', JSON.stringify({ status: 'queued', delivery: result.deliveryId, issue: issue.iid }));
  }
}

/** A handled event's body, parsed and checked against its schema; null when it was answered instead. */
function parseHook(event: string, raw: Buffer, answer: DeliveryContext['answer']): WebhookEvent | null {
  if (!isHandledEvent(event)) {
    answer(
      202,
      'ignored',
      JSON.stringify({ status: 'ignored', reason: `event ${event.slice(0, 100)} is not handled` }),
    );
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    answer(400, 'malformed', MALFORMED);
    return null;
  }
  if (isOtherWorkItem(json)) {
    answer(202, 'ignored', WORK_ITEM);
    return null;
  }
  const parsed = parseWebhook(event, json);
  if (!parsed.ok) {
    answer(
      400,
      'invalid',
      JSON.stringify({
        error: 'body does not match the GitLab webhook schema',
        problems: parsed.problems.slice(0, 20),
      }),
    );
    return null;
  }
  return parsed.value;
}

/** An unexpected error: logged, and answered 500 if nothing was sent yet (GitLab retries), else the socket is cut. */
function failed(err: unknown, { logger, answer }: DeliveryContext, res: ServerResponse): void {
  logger().error({ err }, 'webhook failed');
  if (!res.headersSent) answer(500, 'error', INTERNAL);
  else res.destroy();
}
