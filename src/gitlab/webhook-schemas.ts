import { z } from 'zod';
import { sameName } from '../domain/same-name.js';

/**
 * Webhook bodies as GitLab documents them (Issue Hook, Note Hook and their confidential variants),
 * reduced to the fields the bot reads. Objects are loose: GitLab adds fields over time and the
 * bot must keep accepting them.
 */

const user = z.looseObject({
  id: z.number().int().optional(),
  username: z.string().min(1),
  name: z.string().optional(),
});

const project = z.looseObject({
  id: z.number().int(),
  path_with_namespace: z.string().optional(),
  web_url: z.string().optional(),
});

export const issueHookSchema = z.looseObject({
  object_kind: z.literal('issue'),
  event_type: z.string().optional(),
  user,
  project,
  object_attributes: z.looseObject({
    id: z.number().int().optional(),
    iid: z.number().int().positive(),
    action: z.string().optional(),
    state: z.string().optional(),
    confidential: z.boolean().optional(),
    updated_at: z.string().optional(),
  }),
  changes: z.record(z.string(), z.unknown()).optional(),
});

export const noteHookSchema = z.looseObject({
  object_kind: z.literal('note'),
  event_type: z.string().optional(),
  user,
  project,
  object_attributes: z.looseObject({
    id: z.number().int(),
    note: z.string(),
    noteable_type: z.string(),
    action: z.string().optional(),
    system: z.boolean().optional(),
    // Who last edited the note (null until someone does): for an edit, the one who made it.
    updated_by_id: z.number().int().nullish(),
  }),
  // `type` (GitLab 17.2+) is the work item type: a comment on a task also says noteable_type "Issue".
  issue: z.looseObject({ iid: z.number().int().positive(), type: z.string().nullish() }).optional(),
});

export type IssueHook = z.infer<typeof issueHookSchema>;
export type NoteHook = z.infer<typeof noteHookSchema>;

/**
 * A push (doc/user/project/integrations/webhook_events.md, "Push events"): only what tells whether
 * the project's default branch moved, which may have changed the configuration.
 */
export const pushHookSchema = z.looseObject({
  object_kind: z.literal('push'),
  ref: z.string(),
  after: z.string(),
  user_username: z.string(),
  project: z.looseObject({
    id: z.number().int(),
    path_with_namespace: z.string().optional(),
    default_branch: z.string().nullish(),
  }),
});

export type PushHook = z.infer<typeof pushHookSchema>;

/** The `X-Gitlab-Event` values the bot handles, and which schema each body must satisfy. */
export const HANDLED_EVENTS = {
  'Issue Hook': issueHookSchema,
  'Confidential Issue Hook': issueHookSchema,
  'Note Hook': noteHookSchema,
  'Confidential Note Hook': noteHookSchema,
} as const;

export type HandledEvent = keyof typeof HANDLED_EVENTS;

export function isHandledEvent(event: string | undefined): event is HandledEvent {
  return event !== undefined && Object.hasOwn(HANDLED_EVENTS, event);
}

/**
 * Tasks, epics, objectives and other work items that are not issues: GitLab sends their events to
 * the "Issues events" hook as `Issue Hook`, with `object_kind: "work_item"` (issues and Service Desk
 * issues keep `object_kind: "issue"`). They are never requests, and a group epic has no project.
 */
export function isOtherWorkItem(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { object_kind?: unknown }).object_kind === 'work_item';
}

/** An older GitLab sends no type: the issue then counts as one (the worker still reads `issue_type`). */
function isIssueType(type: string | null | undefined): boolean {
  return type === undefined || type === null || type.toLowerCase() === 'issue';
}

export type WebhookEvent =
  | { kind: 'issue'; event: HandledEvent; body: IssueHook; projectId: number; iid: number; actor: string }
  | { kind: 'note'; event: HandledEvent; body: NoteHook; projectId: number; iid: number | null; actor: string };

/**
 * Whether a delivery reports the bot's own write. For an edited note GitLab names the note's
 * author as `user`, not the editor (`Notes::UpdateService#execute_note_webhook` builds the hook with
 * `note.author`): a person ticking a box in the bot's note arrives with the bot as `user`. The
 * editor is `object_attributes.updated_by_id`. When that is missing, or the bot's id is not known
 * yet, the edit counts as a person's: a needless pass writes nothing, a dropped tick leaves a
 * completed request open.
 */
export function isOwnEvent(hook: WebhookEvent, bot: { username: string; id: number | null }): boolean {
  if (hook.kind === 'note' && hook.body.object_attributes.action === 'update') {
    const editor = hook.body.object_attributes.updated_by_id;
    return bot.id !== null && editor === bot.id;
  }
  return sameName(hook.actor, bot.username);
}

export type ParseOutcome = { ok: true; value: WebhookEvent } | { ok: false; problems: string[] };

/** Validates a parsed JSON body against the schema for its `X-Gitlab-Event`. */
export function parseWebhook(event: HandledEvent, json: unknown): ParseOutcome {
  const schema = HANDLED_EVENTS[event];
  const result = schema.safeParse(json);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`),
    };
  }
  const body = result.data;
  if (body.object_kind === 'issue') {
    return {
      ok: true,
      value: {
        kind: 'issue',
        event,
        body,
        projectId: body.project.id,
        iid: body.object_attributes.iid,
        actor: body.user.username,
      },
    };
  }
  return {
    ok: true,
    value: {
      kind: 'note',
      event,
      body,
      projectId: body.project.id,
      // Only comments on issues concern the bot; others (on merge requests, commits, tasks) carry no issue.
      iid:
        body.object_attributes.noteable_type === 'Issue' && isIssueType(body.issue?.type)
          ? (body.issue?.iid ?? null)
          : null,
      actor: body.user.username,
    },
  };
}
