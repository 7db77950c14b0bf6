import { createHash, randomUUID } from 'node:crypto';

/**
 * Webhook bodies and delivery headers shaped like GitLab's documented examples
 * (doc/user/project/integrations/webhook_events.md: "Work item events" for issues, "Comment on an
 * issue" for notes) and like `WebHookService#build_headers`. Pure builders: plain inputs in, JSON out.
 *
 * Where the documented example is stale, the payload follows what GitLab's builders send today,
 * and says so below: user objects carry `id` and `email`, note attributes carry `internal`.
 */

/** The version the fake claims (`User-Agent: GitLab/<version>`, `GET /version`). */
export const FAKE_GITLAB_VERSION = '18.2.1-ee';

export type HookTime = Date | string;

const toDate = (t: HookTime): Date => (t instanceof Date ? t : new Date(t));

/** `2013-12-03T17:15:43Z`: issue hook `object_attributes` and their labels, as documented. */
export function hookIsoTime(t: HookTime): string {
  return toDate(t)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
}

/** `2015-05-17 17:06:40 UTC`: note hook attributes and every `changes` timestamp, as documented. */
export function hookUtcTime(t: HookTime): string {
  const iso = toDate(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** `2019-06-05T14:32:20.211Z`: labels inside a note hook's `issue`, as documented. */
function hookMsTime(t: HookTime): string {
  return toDate(t).toISOString();
}

type TimeFormat = (t: HookTime) => string;
const optionalTime = (t: HookTime | null | undefined, format: TimeFormat): string | null =>
  t == null ? null : format(t);

// ---------------------------------------------------------------------------------------------
// Inputs

export interface UserInput {
  id: number;
  username: string;
  name: string;
  /** GitLab sends `[REDACTED]` unless the user made an email public. */
  email?: string | null;
  avatar_url?: string;
}

export interface LabelInput {
  id: number;
  title: string;
  color: string;
  description?: string | null;
  project_id?: number | null;
  created_at: HookTime;
  updated_at: HookTime;
}

export interface ProjectInput {
  id: number;
  name: string;
  path_with_namespace: string;
  web_url: string;
  /** The namespace's display name, e.g. `Sales`. */
  namespace: string;
  description?: string | null;
  default_branch?: string | null;
  visibility_level?: 0 | 10 | 20;
}

export interface IssueInput {
  id: number;
  iid: number;
  project_id: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  confidential?: boolean;
  /** The work item type GitLab names in `object_attributes.type` (default Issue). */
  type?: 'Issue' | 'Task';
  author_id: number;
  assignees: UserInput[];
  labels: LabelInput[];
  created_at: HookTime;
  updated_at: HookTime;
  closed_at?: HookTime | null;
  updated_by_id?: number | null;
  last_edited_at?: HookTime | null;
  last_edited_by_id?: number | null;
  discussion_locked?: boolean | null;
  due_date?: string | null;
  /** The issue's web URL. */
  url: string;
}

export interface NoteInput {
  id: number;
  body: string;
  author_id: number;
  created_at: HookTime;
  updated_at: HookTime;
  internal?: boolean;
  system?: boolean;
  /** The note's web URL (`…/-/issues/17#note_1241`). */
  url: string;
  discussion_id?: string;
  updated_by_id?: number | null;
}

export interface ChangeInput<T> {
  previous: T;
  current: T;
}

/** What changed, with domain values; the builder formats them the way GitLab does in `changes`. */
export interface IssueChangesInput {
  author_id?: ChangeInput<number | null>;
  id?: ChangeInput<number | null>;
  iid?: ChangeInput<number | null>;
  project_id?: ChangeInput<number | null>;
  title?: ChangeInput<string | null>;
  description?: ChangeInput<string | null>;
  confidential?: ChangeInput<boolean | null>;
  state_id?: ChangeInput<number | null>;
  created_at?: ChangeInput<HookTime | null>;
  closed_at?: ChangeInput<HookTime | null>;
  last_edited_at?: ChangeInput<HookTime | null>;
  last_edited_by_id?: ChangeInput<number | null>;
  updated_at?: ChangeInput<HookTime | null>;
  updated_by_id?: ChangeInput<number | null>;
  labels?: ChangeInput<LabelInput[]>;
  assignees?: ChangeInput<UserInput[]>;
}

// ---------------------------------------------------------------------------------------------
// Outputs

export interface HookUser {
  id: number;
  name: string;
  username: string;
  avatar_url: string;
  email: string;
}

export interface HookLabel {
  id: number;
  title: string;
  color: string;
  project_id: number | null;
  created_at: string;
  updated_at: string;
  template: boolean;
  description: string | null;
  type: 'ProjectLabel';
  group_id: number | null;
}

export interface HookProject {
  id: number;
  name: string;
  description: string;
  web_url: string;
  avatar_url: string | null;
  git_ssh_url: string;
  git_http_url: string;
  namespace: string;
  visibility_level: number;
  path_with_namespace: string;
  default_branch: string;
  ci_config_path: string | null;
  homepage: string;
  url: string;
  ssh_url: string;
  http_url: string;
}

export interface HookRepository {
  name: string;
  url: string;
  description: string;
  homepage: string;
}

/** `object_attributes` of an Issue Hook without `action`; also the `issue` of a Note Hook. */
export interface HookIssueAttributes {
  id: number;
  title: string;
  assignee_ids: number[];
  /** Deprecated by GitLab: the first assignee only. */
  assignee_id: number | null;
  author_id: number;
  project_id: number;
  created_at: string;
  updated_at: string;
  updated_by_id: number | null;
  last_edited_at: string | null;
  last_edited_by_id: number | null;
  relative_position: number | null;
  description: string | null;
  milestone_id: number | null;
  state_id: 1 | 2;
  confidential: boolean;
  discussion_locked: boolean | null;
  due_date: string | null;
  moved_to_id: number | null;
  duplicated_to_id: number | null;
  time_estimate: number;
  total_time_spent: number;
  time_change: number;
  human_total_time_spent: string | null;
  human_time_estimate: string | null;
  human_time_change: string | null;
  weight: number | null;
  health_status: string | null;
  type: 'Issue' | 'Task';
  iid: number;
  url: string;
  state: 'opened' | 'closed';
  severity: string;
  /** Not in the documented example, but in GitLab's `IssueBuilder::SAFE_HOOK_ATTRIBUTES`. */
  closed_at: string | null;
  labels: HookLabel[];
}

export type IssueAction = 'open' | 'update' | 'close' | 'reopen';

export interface HookChange<T> {
  previous: T;
  current: T;
}

export interface IssueHookChanges {
  author_id?: HookChange<number | null>;
  id?: HookChange<number | null>;
  iid?: HookChange<number | null>;
  project_id?: HookChange<number | null>;
  title?: HookChange<string | null>;
  description?: HookChange<string | null>;
  confidential?: HookChange<boolean | null>;
  state_id?: HookChange<number | null>;
  created_at?: HookChange<string | null>;
  closed_at?: HookChange<string | null>;
  last_edited_at?: HookChange<string | null>;
  last_edited_by_id?: HookChange<number | null>;
  updated_at?: HookChange<string | null>;
  updated_by_id?: HookChange<number | null>;
  labels?: HookChange<HookLabel[]>;
  assignees?: HookChange<HookUser[]>;
}

export interface IssueHookPayload {
  /** `work_item` for every work item that is not an issue (a task here), with the same header. */
  object_kind: 'issue' | 'work_item';
  event_type: 'issue' | 'confidential_issue' | 'work_item';
  user: HookUser;
  project: HookProject;
  object_attributes: HookIssueAttributes & { action: IssueAction };
  /** Deprecated by GitLab, still sent. */
  repository: HookRepository;
  /** Only when the issue has assignees. */
  assignees?: HookUser[];
  /** Deprecated by GitLab: the first assignee, only when there is one. */
  assignee?: HookUser;
  labels: HookLabel[];
  changes: IssueHookChanges;
}

export type NoteAction = 'create' | 'update';

export interface HookNoteAttributes {
  id: number;
  note: string;
  noteable_type: 'Issue';
  author_id: number;
  created_at: string;
  updated_at: string;
  project_id: number;
  attachment: null;
  line_code: null;
  commit_id: string;
  noteable_id: number;
  system: boolean;
  st_diff: null;
  action: NoteAction;
  url: string;
  /** Not in the documented example; in GitLab's `NoteBuilder::SAFE_HOOK_ATTRIBUTES`. */
  internal: boolean;
  discussion_id: string;
  type: null;
  updated_by_id: number | null;
  description: string;
}

export interface NoteHookPayload {
  object_kind: 'note';
  event_type: 'note' | 'confidential_note';
  user: HookUser;
  project_id: number;
  project: HookProject;
  /** Deprecated by GitLab, still sent. */
  repository: HookRepository;
  object_attributes: HookNoteAttributes;
  issue: HookIssueAttributes;
}

export type WebhookEventName =
  'Issue Hook' | 'Confidential Issue Hook' | 'Note Hook' | 'Confidential Note Hook' | 'Push Hook';

// ---------------------------------------------------------------------------------------------
// Builders

/** Gravatar's identicon for a user without an uploaded avatar, as GitLab falls back to. */
export function defaultAvatarUrl(username: string): string {
  return `https://www.gravatar.com/avatar/${createHash('md5').update(username).digest('hex')}?s=80&d=identicon`;
}

export function hookUser(user: UserInput): HookUser {
  return {
    id: user.id,
    name: user.name,
    username: user.username,
    avatar_url: user.avatar_url ?? defaultAvatarUrl(user.username),
    email: user.email ?? '[REDACTED]',
  };
}

function hookLabel(label: LabelInput, format: TimeFormat): HookLabel {
  return {
    id: label.id,
    title: label.title,
    color: label.color,
    project_id: label.project_id ?? null,
    created_at: format(label.created_at),
    updated_at: format(label.updated_at),
    template: false,
    description: label.description ?? null,
    type: 'ProjectLabel',
    group_id: null,
  };
}

export function hookProject(project: ProjectInput): HookProject {
  const host = new URL(project.web_url).host;
  const ssh = `git@${host}:${project.path_with_namespace}.git`;
  const http = `${project.web_url}.git`;
  return {
    id: project.id,
    name: project.name,
    description: project.description ?? '',
    web_url: project.web_url,
    avatar_url: null,
    git_ssh_url: ssh,
    git_http_url: http,
    namespace: project.namespace,
    visibility_level: project.visibility_level ?? 0,
    path_with_namespace: project.path_with_namespace,
    default_branch: project.default_branch ?? 'main',
    ci_config_path: null,
    homepage: project.web_url,
    url: http,
    ssh_url: ssh,
    http_url: http,
  };
}

export interface PushHookInput {
  project: ProjectInput;
  user: UserInput;
  branch: string;
  before: string;
  after: string;
  /** The pushed commits, oldest first (GitLab sends the latest 20). */
  commits: Array<{
    id: string;
    message: string;
    title: string;
    timestamp: string;
    authorName: string;
    authorEmail: string;
    added: string[];
    modified: string[];
    removed: string[];
  }>;
}

/**
 * A Push Hook body for a push to a branch, as `Gitlab::DataBuilder::Push.build` makes it
 * (lib/gitlab/data_builder/push.rb; doc/user/project/integrations/webhook_events.md, "Push events").
 */
export function pushHookPayload(input: PushHookInput) {
  const project = hookProject(input.project);
  const user = hookUser(input.user);
  return {
    object_kind: 'push',
    event_name: 'push',
    before: input.before,
    after: input.after,
    ref: `refs/heads/${input.branch}`,
    ref_protected: true,
    checkout_sha: input.after,
    message: null,
    user_id: user.id,
    user_name: user.name,
    user_username: user.username,
    user_email: '',
    user_avatar: user.avatar_url,
    project_id: project.id,
    project,
    commits: input.commits.slice(-20).map((c) => ({
      id: c.id,
      message: c.message,
      title: c.title,
      timestamp: c.timestamp,
      url: `${project.web_url}/-/commit/${c.id}`,
      author: { name: c.authorName, email: c.authorEmail },
      added: c.added,
      modified: c.modified,
      removed: c.removed,
    })),
    total_commits_count: input.commits.length,
    push_options: {},
    repository: {
      ...hookRepository(project),
      git_http_url: project.git_http_url,
      git_ssh_url: project.git_ssh_url,
      visibility_level: project.visibility_level,
    },
  };
}

function hookRepository(project: HookProject): HookRepository {
  return { name: project.name, url: project.url, description: project.description, homepage: project.homepage };
}

function issueAttributes(issue: IssueInput, times: TimeFormat, labelTimes: TimeFormat): HookIssueAttributes {
  const assigneeIds = issue.assignees.map((a) => a.id);
  return {
    id: issue.id,
    title: issue.title,
    assignee_ids: assigneeIds,
    assignee_id: assigneeIds[0] ?? null,
    author_id: issue.author_id,
    project_id: issue.project_id,
    created_at: times(issue.created_at),
    updated_at: times(issue.updated_at),
    updated_by_id: issue.updated_by_id ?? null,
    last_edited_at: optionalTime(issue.last_edited_at, times),
    last_edited_by_id: issue.last_edited_by_id ?? null,
    relative_position: null,
    description: issue.description,
    milestone_id: null,
    state_id: issue.state === 'opened' ? 1 : 2,
    confidential: issue.confidential ?? false,
    discussion_locked: issue.discussion_locked ?? null,
    due_date: issue.due_date ?? null,
    moved_to_id: null,
    duplicated_to_id: null,
    time_estimate: 0,
    total_time_spent: 0,
    time_change: 0,
    human_total_time_spent: null,
    human_time_estimate: null,
    human_time_change: null,
    weight: null,
    health_status: null,
    type: issue.type ?? 'Issue',
    iid: issue.iid,
    url: issue.url,
    state: issue.state,
    severity: 'unknown',
    closed_at: optionalTime(issue.closed_at, times),
    labels: issue.labels.map((l) => hookLabel(l, labelTimes)),
  };
}

const TIME_CHANGE_KEYS = new Set(['created_at', 'closed_at', 'last_edited_at', 'updated_at']);

function hookChanges(changes: IssueChangesInput): IssueHookChanges {
  const out: Record<string, HookChange<unknown>> = {};
  for (const [key, change] of Object.entries(changes) as Array<
    [keyof IssueChangesInput, ChangeInput<unknown> | undefined]
  >) {
    if (!change) continue;
    const convert = (value: unknown): unknown => {
      if (key === 'labels') return (value as LabelInput[]).map((l) => hookLabel(l, hookIsoTime));
      if (key === 'assignees') return (value as UserInput[]).map(hookUser);
      if (TIME_CHANGE_KEYS.has(key)) return optionalTime(value as HookTime | null, hookUtcTime);
      return value;
    };
    out[key] = { previous: convert(change.previous), current: convert(change.current) };
  }
  return out as IssueHookChanges;
}

export interface IssueHookInput {
  action: IssueAction;
  issue: IssueInput;
  project: ProjectInput;
  /** Who made the change. */
  user: UserInput;
  changes?: IssueChangesInput;
  /** Overrides `issue.confidential` for `event_type`. */
  confidential?: boolean;
}

/** An Issue Hook body (`X-Gitlab-Event: Issue Hook`, or `Confidential Issue Hook`). */
export function issueHookPayload(input: IssueHookInput): IssueHookPayload {
  const confidential = input.confidential ?? input.issue.confidential ?? false;
  const project = hookProject(input.project);
  const assignees = input.issue.assignees.map(hookUser);
  const attributes = issueAttributes({ ...input.issue, confidential }, hookIsoTime, hookIsoTime);
  const first = assignees[0];
  const workItem = (input.issue.type ?? 'Issue') !== 'Issue';
  return {
    object_kind: workItem ? 'work_item' : 'issue',
    // As GitLab sends it (gitlab-org/gitlab#535890): event_type work_item too, whatever the type.
    event_type: workItem ? 'work_item' : confidential ? 'confidential_issue' : 'issue',
    user: hookUser(input.user),
    project,
    object_attributes: { ...attributes, action: input.action },
    repository: hookRepository(project),
    ...(first ? { assignees, assignee: first } : {}),
    labels: attributes.labels,
    changes: hookChanges(input.changes ?? {}),
  };
}

export interface NoteHookInput {
  note: NoteInput;
  issue: IssueInput;
  project: ProjectInput;
  /** The hook's `user`: who wrote the note (for an edit, still its author: see the fake's `emit`). */
  user: UserInput;
  action?: NoteAction;
}

/** A Note Hook body for a comment on an issue (`Note Hook`, or `Confidential Note Hook`). */
export function noteHookPayload(input: NoteHookInput): NoteHookPayload {
  const { note, issue } = input;
  const project = hookProject(input.project);
  const internal = note.internal ?? false;
  return {
    object_kind: 'note',
    // GitLab: `note.confidential?(include_noteable: true)`, i.e. an internal note or a confidential issue.
    event_type: internal || issue.confidential ? 'confidential_note' : 'note',
    user: hookUser(input.user),
    project_id: project.id,
    project,
    repository: hookRepository(project),
    object_attributes: {
      id: note.id,
      note: note.body,
      noteable_type: 'Issue',
      author_id: note.author_id,
      created_at: hookUtcTime(note.created_at),
      updated_at: hookUtcTime(note.updated_at),
      project_id: project.id,
      attachment: null,
      line_code: null,
      commit_id: '',
      noteable_id: issue.id,
      system: note.system ?? false,
      st_diff: null,
      action: input.action ?? 'create',
      url: note.url,
      internal,
      discussion_id: note.discussion_id ?? createHash('sha1').update(`note-${note.id}`).digest('hex'),
      type: null,
      updated_by_id: note.updated_by_id ?? null,
      description: note.body,
    },
    issue: issueAttributes(issue, hookUtcTime, hookMsTime),
  };
}

/** The `X-Gitlab-Event` header GitLab sends with a payload. */
export function webhookEventName(payload: IssueHookPayload | NoteHookPayload): WebhookEventName {
  if (payload.object_kind === 'issue' || payload.object_kind === 'work_item') {
    const confidential =
      payload.event_type === 'confidential_issue' ||
      (payload.object_kind === 'work_item' && payload.object_attributes.confidential);
    return confidential ? 'Confidential Issue Hook' : 'Issue Hook';
  }
  return payload.event_type === 'confidential_note' ? 'Confidential Note Hook' : 'Note Hook';
}

export interface WebhookHeadersInput {
  event: WebhookEventName;
  /** The hook's secret token; no `X-Gitlab-Token` header when empty. */
  token?: string | null;
  /** `X-Gitlab-Event-UUID`: one per request that triggered hooks (shared by all hooks it fires). */
  uuid: string;
  /** `Idempotency-Key`: one per delivery, kept on retries and manual resends. */
  idempotencyKey: string;
  /** `X-Gitlab-Instance`: the instance's base URL. */
  instance: string;
  /** `X-Gitlab-Webhook-UUID`: new for every attempt (random when omitted). */
  webhookUuid?: string;
  version?: string;
}

/** Delivery headers in the order `WebHookService#build_headers` sets them. */
export function webhookHeaders(input: WebhookHeadersInput): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': `GitLab/${input.version ?? FAKE_GITLAB_VERSION}`,
    'Idempotency-Key': input.idempotencyKey,
    'X-Gitlab-Event': input.event,
    'X-Gitlab-Webhook-UUID': input.webhookUuid ?? randomUUID(),
    'X-Gitlab-Instance': input.instance,
    'X-Gitlab-Event-UUID': input.uuid,
  };
  if (input.token) headers['X-Gitlab-Token'] = input.token;
  return headers;
}
