import {
  defaultAvatarUrl,
  type IssueInput,
  type LabelInput,
  type NoteInput,
  type ProjectInput,
  type UserInput,
} from './payloads.js';
import type { FakeState, IssueRecord, LabelEventRecord, LabelRecord, NoteRecord, UserRecord } from './state.js';

/**
 * How the fake's records look from outside: REST API v4 entities (doc/api/issues.md, notes.md,
 * resource_label_events.md, users.md, projects.md; timestamps ISO 8601 with milliseconds) and the
 * inputs of the webhook payload builders.
 */

export interface ProjectInfo {
  id: number;
  /** `path_with_namespace`, e.g. `sales/scale-engagement-requests`. */
  path: string;
  name: string;
  /** The namespace's display name. */
  namespace: string;
  createdAt: Date;
}

export interface EntityContext {
  state: FakeState;
  project: ProjectInfo;
  baseUrl: string;
}

export interface RestUser {
  id: number;
  username: string;
  name: string;
  state: 'active';
  locked: boolean;
  avatar_url: string;
  web_url: string;
}

export interface RestCurrentUser extends RestUser {
  created_at: string;
  bio: string;
  location: string;
  public_email: string | null;
  linkedin: string;
  twitter: string;
  website_url: string;
  organization: string;
  job_title: string;
  bot: boolean;
  email: string;
  is_admin: boolean;
}

export interface RestIssue {
  id: number;
  iid: number;
  project_id: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_by: RestUser | null;
  labels: string[];
  milestone: null;
  assignees: RestUser[];
  author: RestUser;
  type: 'ISSUE' | 'TASK';
  /** Deprecated by GitLab: the first assignee. */
  assignee: RestUser | null;
  user_notes_count: number;
  merge_requests_count: number;
  upvotes: number;
  downvotes: number;
  due_date: string | null;
  confidential: boolean;
  discussion_locked: boolean | null;
  issue_type: 'issue' | 'task';
  web_url: string;
  time_stats: {
    time_estimate: number;
    total_time_spent: number;
    human_time_estimate: string | null;
    human_total_time_spent: string | null;
  };
  task_completion_status: { count: number; completed_count: number };
  blocking_issues_count: number;
  has_tasks: boolean;
  _links: { self: string; notes: string; award_emoji: string; project: string; closed_as_duplicate_of: string | null };
  references: { short: string; relative: string; full: string };
  severity: 'UNKNOWN';
  moved_to_id: number | null;
  service_desk_reply_to: string | null;
}

export interface RestNote {
  id: number;
  type: null;
  body: string;
  attachment: null;
  author: RestUser;
  created_at: string;
  updated_at: string;
  system: boolean;
  noteable_id: number;
  noteable_type: 'Issue';
  project_id: number;
  resolvable: boolean;
  /** Deprecated alias of `internal`. */
  confidential: boolean;
  internal: boolean;
  noteable_iid: number;
  commands_changes: Record<string, unknown>;
  imported: boolean;
  imported_from: 'none';
}

export interface RestLabelEvent {
  id: number;
  user: RestUser;
  created_at: string;
  resource_type: 'Issue';
  resource_id: number;
  label: { id: number; name: string; color: string; description: string };
  action: 'add' | 'remove';
}

export interface RestProject {
  id: number;
  description: string | null;
  name: string;
  name_with_namespace: string;
  path: string;
  path_with_namespace: string;
  created_at: string;
  default_branch: string;
  tag_list: string[];
  topics: string[];
  ssh_url_to_repo: string;
  http_url_to_repo: string;
  web_url: string;
  readme_url: string | null;
  forks_count: number;
  avatar_url: string | null;
  star_count: number;
  last_activity_at: string;
  namespace: {
    id: number;
    name: string;
    path: string;
    kind: 'group';
    full_path: string;
    parent_id: number | null;
    avatar_url: string | null;
    web_url: string;
  };
  visibility: 'private';
  issues_enabled: boolean;
  open_issues_count: number;
  _links: { self: string; issues: string; labels: string; events: string; members: string };
}

export const projectWebUrl = (ctx: EntityContext): string => `${ctx.baseUrl}/${ctx.project.path}`;
export const issueWebUrl = (ctx: EntityContext, iid: number): string => `${projectWebUrl(ctx)}/-/issues/${iid}`;
const projectApiUrl = (ctx: EntityContext): string => `${ctx.baseUrl}/api/v4/projects/${ctx.project.id}`;

export function restUser(user: UserRecord, ctx: EntityContext): RestUser {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: 'active',
    locked: false,
    avatar_url: defaultAvatarUrl(user.username),
    web_url: `${ctx.baseUrl}/${user.username}`,
  };
}

/**
 * A project member, as `GET /projects/:id/members/all/:user_id` answers (docs.gitlab.com "Group and
 * project members API", `API::Entities::Member`): the user with their `access_level`.
 */
export function restMember(
  user: UserRecord,
  ctx: EntityContext,
): RestUser & { access_level: number; created_at: string; expires_at: null; membership_state: 'active' } {
  return {
    ...restUser(user, ctx),
    access_level: user.accessLevel,
    created_at: user.createdAt.toISOString(),
    expires_at: null,
    membership_state: 'active',
  };
}

export function restCurrentUser(
  user: UserRecord,
  ctx: EntityContext,
  options: { bot: boolean; admin: boolean },
): RestCurrentUser {
  return {
    ...restUser(user, ctx),
    created_at: user.createdAt.toISOString(),
    bio: '',
    location: '',
    public_email: null,
    linkedin: '',
    twitter: '',
    website_url: '',
    organization: '',
    job_title: '',
    bot: options.bot,
    email: `${user.username}@example.com`,
    is_admin: options.admin,
  };
}

/** `- [ ]` / `- [x]` task list items, as GitLab counts them for `task_completion_status`. */
function taskCounts(description: string | null): { count: number; completed_count: number } {
  const items = [...(description ?? '').matchAll(/^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\[([ xX~])\]/gm)];
  return { count: items.length, completed_count: items.filter((m) => m[1] !== ' ').length };
}

export function restIssue(issue: IssueRecord, ctx: EntityContext): RestIssue {
  const user = (id: number) => restUser(ctx.state.user(id), ctx);
  const assignees = issue.assigneeIds.map(user);
  const self = `${projectApiUrl(ctx)}/issues/${issue.iid}`;
  const tasks = taskCounts(issue.description);
  return {
    id: issue.id,
    iid: issue.iid,
    project_id: ctx.project.id,
    title: issue.title,
    description: issue.description,
    state: issue.state,
    created_at: issue.createdAt.toISOString(),
    updated_at: issue.updatedAt.toISOString(),
    closed_at: issue.closedAt?.toISOString() ?? null,
    closed_by: issue.closedById === null ? null : user(issue.closedById),
    // The API lists label names sorted.
    labels: issue.labelIds.map((id) => ctx.state.label(id).name).sort(),
    milestone: null,
    assignees,
    author: user(issue.authorId),
    type: issue.issueType === 'task' ? 'TASK' : 'ISSUE',
    assignee: assignees[0] ?? null,
    user_notes_count: ctx.state.notesOf(issue.iid).filter((n) => !n.system).length,
    merge_requests_count: 0,
    upvotes: 0,
    downvotes: 0,
    due_date: null,
    confidential: issue.confidential,
    discussion_locked: issue.discussionLocked,
    issue_type: issue.issueType,
    web_url: issueWebUrl(ctx, issue.iid),
    time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
    task_completion_status: tasks,
    blocking_issues_count: 0,
    has_tasks: tasks.count > 0,
    _links: {
      self,
      notes: `${self}/notes`,
      award_emoji: `${self}/award_emoji`,
      project: projectApiUrl(ctx),
      closed_as_duplicate_of: null,
    },
    references: { short: `#${issue.iid}`, relative: `#${issue.iid}`, full: `${ctx.project.path}#${issue.iid}` },
    severity: 'UNKNOWN',
    moved_to_id: null,
    service_desk_reply_to: null,
  };
}

export function restNote(note: NoteRecord, ctx: EntityContext): RestNote {
  return {
    id: note.id,
    type: null,
    body: note.body,
    attachment: null,
    author: restUser(ctx.state.user(note.authorId), ctx),
    created_at: note.createdAt.toISOString(),
    updated_at: note.updatedAt.toISOString(),
    system: note.system,
    noteable_id: ctx.state.issue(note.iid).id,
    noteable_type: 'Issue',
    project_id: ctx.project.id,
    resolvable: false,
    confidential: note.internal,
    internal: note.internal,
    noteable_iid: note.iid,
    commands_changes: {},
    imported: false,
    imported_from: 'none',
  };
}

export function restLabelEvent(event: LabelEventRecord, ctx: EntityContext): RestLabelEvent {
  const label = ctx.state.label(event.labelId);
  return {
    id: event.id,
    user: restUser(ctx.state.user(event.userId), ctx),
    created_at: event.createdAt.toISOString(),
    resource_type: 'Issue',
    resource_id: ctx.state.issue(event.iid).id,
    label: { id: label.id, name: label.name, color: label.color, description: label.description ?? '' },
    action: event.action,
  };
}

export function restProject(ctx: EntityContext): RestProject {
  const { project } = ctx;
  const web = projectWebUrl(ctx);
  const host = new URL(ctx.baseUrl).host;
  const namespacePath = project.path.slice(0, project.path.lastIndexOf('/'));
  const api = projectApiUrl(ctx);
  let open = 0;
  for (const issue of ctx.state.allIssues()) if (issue.state === 'opened') open++;
  return {
    id: project.id,
    description: null,
    name: project.name,
    name_with_namespace: `${project.namespace} / ${project.name}`,
    path: project.path.slice(project.path.lastIndexOf('/') + 1),
    path_with_namespace: project.path,
    created_at: project.createdAt.toISOString(),
    default_branch: 'main',
    tag_list: [],
    topics: [],
    ssh_url_to_repo: `git@${host}:${project.path}.git`,
    http_url_to_repo: `${web}.git`,
    web_url: web,
    readme_url: null,
    forks_count: 0,
    avatar_url: null,
    star_count: 0,
    last_activity_at: project.createdAt.toISOString(),
    namespace: {
      id: 1,
      name: project.namespace,
      path: namespacePath,
      kind: 'group',
      full_path: namespacePath,
      parent_id: null,
      avatar_url: null,
      web_url: `${ctx.baseUrl}/groups/${namespacePath}`,
    },
    visibility: 'private',
    issues_enabled: true,
    open_issues_count: open,
    _links: {
      self: api,
      issues: `${api}/issues`,
      labels: `${api}/labels`,
      events: `${api}/events`,
      members: `${api}/members`,
    },
  };
}

// --- webhook payload inputs -------------------------------------------------------------------

export const userInput = (user: UserRecord): UserInput => ({ id: user.id, username: user.username, name: user.name });

const labelInput = (label: LabelRecord, projectId: number): LabelInput => ({
  id: label.id,
  title: label.name,
  color: label.color,
  description: label.description,
  project_id: projectId,
  created_at: label.createdAt,
  updated_at: label.updatedAt,
});

export const labelInputs = (ids: number[], ctx: EntityContext): LabelInput[] =>
  ids.map((id) => labelInput(ctx.state.label(id), ctx.project.id));

export const userInputs = (ids: number[], ctx: EntityContext): UserInput[] =>
  ids.map((id) => userInput(ctx.state.user(id)));

export function projectInput(ctx: EntityContext): ProjectInput {
  return {
    id: ctx.project.id,
    name: ctx.project.name,
    path_with_namespace: ctx.project.path,
    web_url: projectWebUrl(ctx),
    namespace: ctx.project.namespace,
  };
}

export function issueInput(issue: IssueRecord, ctx: EntityContext): IssueInput {
  return {
    id: issue.id,
    iid: issue.iid,
    project_id: ctx.project.id,
    title: issue.title,
    description: issue.description,
    state: issue.state,
    confidential: issue.confidential,
    type: issue.issueType === 'task' ? 'Task' : 'Issue',
    author_id: issue.authorId,
    assignees: userInputs(issue.assigneeIds, ctx),
    labels: labelInputs(issue.labelIds, ctx),
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    updated_by_id: issue.updatedById,
    last_edited_at: issue.lastEditedAt,
    last_edited_by_id: issue.lastEditedById,
    discussion_locked: issue.discussionLocked,
    url: issueWebUrl(ctx, issue.iid),
  };
}

export function noteInput(note: NoteRecord, ctx: EntityContext): NoteInput {
  return {
    id: note.id,
    body: note.body,
    author_id: note.authorId,
    created_at: note.createdAt,
    updated_at: note.updatedAt,
    internal: note.internal,
    system: note.system,
    url: `${issueWebUrl(ctx, note.iid)}#note_${note.id}`,
    updated_by_id: note.updatedById,
  };
}
