import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { isHandledEvent, parseWebhook } from '../gitlab/webhook-schemas.js';
import { GroupCommit } from '../queue/group-commit.js';
import type { Inbox } from '../queue/inbox.js';
import type { Metrics } from './metrics.js';
import { tokenMatches, verifySignature } from './verify.js';

export interface WebhookSettings {
  secret: string;
  /** Standard Webhooks signing key; when set, every delivery must carry a valid signature. */
  signingKey: string | null;
  /** The request project, by numeric id and/or `path_with_namespace`. */
  project: { id: number | null; path: string | null };
  /** The bot's own username: its events are ignored so its writes never loop. */
  botUsername: () => string;
}

export interface WebhookDeps {
  inbox: Inbox;
  settings: WebhookSettings;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  /** Called after a delivery is queued, to wake the worker. */
  onQueued: () => void;
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Writes a JSON answer: the same status, body and Content-Type as `res.status(status).json(body)`,
 * without express's send machinery (an ETag hashed over every answer, the body turned into a
 * Buffer and written separately from the headers). GitLab never revalidates webhook answers.
 */
function sendJson(res: Response, status: number, json: string): void {
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

/**
 * POST /webhooks/gitlab. Verifies, validates and persists the delivery, then answers at once; no
 * GitLab call happens here. Only a misconfigured hook gets a 4xx: GitLab disables hooks that fail.
 *
 * Logging: one "webhook answered" line per delivery, from a child logger keyed by its delivery id
 * (created only when a line is written). Queued deliveries, the bulk of the traffic, log at debug;
 * every other outcome (rejections, duplicates, ignored events) at info, signature failures at warn.
 */
export function webhookHandler(deps: WebhookDeps) {
  const { settings, metrics } = deps;
  // The server's connection takes every webhook write: its WAL checkpoints run off the event loop.
  deps.inbox.checkpointInBackground?.();
  const commits = new GroupCommit(deps.inbox, deps.now);
  return async (req: Request, res: Response): Promise<void> => {
    const event = header(req, 'x-gitlab-event') ?? '(none)';
    const deliveryId = header(req, 'x-gitlab-event-uuid') ?? header(req, 'idempotency-key') ?? null;
    let log: Logger | undefined;
    const logger = () => (log ??= deps.logger.child({ delivery: deliveryId, event }));
    const answer = (status: number, outcome: string, json: string) => {
      metrics.deliveries.inc({ event, outcome });
      if (outcome === 'queued') {
        if (deps.logger.isLevelEnabled('debug')) logger().debug({ status, outcome }, 'webhook answered');
      } else logger().info({ status, outcome }, 'webhook answered');
      sendJson(res, status, json);
    };

    if (!tokenMatches(header(req, 'x-gitlab-token'), settings.secret)) {
      answer(401, 'unauthorized', UNAUTHORIZED);
      return;
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (settings.signingKey !== null) {
      const check = verifySignature(
        { id: header(req, 'webhook-id'), timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') },
        raw,
        settings.signingKey,
        Math.floor(deps.now() / 1000),
      );
      if (!check.ok) {
        logger().warn({ reason: check.reason }, 'webhook signature rejected');
        answer(401, 'bad-signature', UNAUTHORIZED);
        return;
      }
    }
    if (!isHandledEvent(event)) {
      answer(202, 'ignored', JSON.stringify({ status: 'ignored', reason: `event ${event} is not handled` }));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      answer(400, 'malformed', MALFORMED);
      return;
    }
    const parsed = parseWebhook(event, json);
    if (!parsed.ok) {
      answer(400, 'invalid', JSON.stringify({ error: 'body does not match the GitLab webhook schema', problems: parsed.problems.slice(0, 20) }));
      return;
    }
    const hook = parsed.value;
    const { id, path } = settings.project;
    const sameProject =
      (id !== null && hook.projectId === id) ||
      (path !== null && hook.body.project.path_with_namespace?.toLowerCase() === path.toLowerCase());
    if (!sameProject) {
      answer(403, 'wrong-project', WRONG_PROJECT);
      return;
    }
    if (hook.actor.toLowerCase() === settings.botUsername().toLowerCase()) {
      answer(202, 'ignored', OWN_EVENT);
      return;
    }
    if (hook.iid === null) {
      answer(202, 'ignored', NOT_ISSUE);
      return;
    }
    const key =
      header(req, 'idempotency-key') ??
      createHash('sha256').update(header(req, 'x-gitlab-event-uuid') ?? '').update('\n').update(raw).digest('hex');
    const result = await commits.accept({
      key,
      event,
      uuid: header(req, 'x-gitlab-event-uuid') ?? null,
      // The bytes as received: stored as a BLOB, no second decode and re-encode of the body.
      body: raw,
      issue: { projectId: hook.projectId, iid: hook.iid },
      receivedAt: deps.now(),
    });
    if (result.duplicate) {
      answer(200, 'duplicate', JSON.stringify({ status: 'duplicate', delivery: result.deliveryId }));
      return;
    }
    deps.onQueued();
    answer(202, 'queued', JSON.stringify({ status: 'queued', delivery: result.deliveryId, issue: hook.iid }));
  };
}
