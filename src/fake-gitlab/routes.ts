import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { ApiError } from './api-error.js';
import {
  restCurrentUser,
  restIssue,
  restLabelEvent,
  restMember,
  restNote,
  restProject,
  restUser,
  type EntityContext,
} from './entities.js';
import { list, queryIssues } from './issue-query.js';
import { paginate } from './pagination.js';
import type { ApplicationRateLimiter } from './rate-limits.js';
import { FAKE_GITLAB_VERSION } from './payloads.js';
import type { QuickAction } from './quick-actions.js';
import { repositoryRoutes, type RepositoryBackend } from './repository-routes.js';
import { mergeRequestRoutes, type FakeMergeRequests } from './merge-requests.js';
import type { CreateIssueInput, FakeState, IssueRecord, NoteRecord, UpdateIssueInput, UserRecord } from './state.js';

/**
 * The REST API v4 endpoints the bot uses, mounted at `/api/v4`. Parameters come from the query
 * string and the body (JSON or form), as Grape merges them.
 */

/** What a write returns: its result, and the webhooks it fired (already queued). */
export interface Written<T> {
  value: T;
  delivered: Promise<void>;
}

export interface ApiBackend extends RepositoryBackend {
  readonly state: FakeState;
  readonly botUsername: string;
  entities(): EntityContext;
  authenticate(req: Request): UserRecord | undefined;
  createIssue(actor: UserRecord, input: CreateIssueInput): Written<IssueRecord>;
  updateIssue(actor: UserRecord, iid: number, input: UpdateIssueInput): Written<IssueRecord>;
  createNote(
    actor: UserRecord,
    iid: number,
    body: string,
    internal: boolean,
  ): Written<{ note: NoteRecord | null; actions: QuickAction[] }>;
  updateNote(
    actor: UserRecord,
    iid: number,
    noteId: number,
    body: string,
  ): Written<{ note: NoteRecord | null; actions: QuickAction[] }>;
  /** `search_rate_limit`, counted per user. */
  readonly searchLimiter: ApplicationRateLimiter;
  readonly mergeRequests: FakeMergeRequests;
}

type Params = Record<string, unknown>;

function params(req: Request): Params {
  const body: unknown = req.body;
  return {
    ...req.query,
    ...(typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Params) : {}),
  };
}

function str(p: Params, key: string): string | undefined {
  const value = p[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function bool(p: Params, key: string): boolean | undefined {
  const value = p[key];
  if (value === undefined) return undefined;
  if (value === true || value === 'true' || value === '1' || value === 1) return true;
  if (value === false || value === 'false' || value === '0' || value === 0) return false;
  throw ApiError.badRequest(`${key} is invalid`);
}

/**
 * `assignee_ids` (or the deprecated `assignee_id`): an array or a comma list; `0`, `""` or `[]`
 * unassign everyone. As `IssuableBaseService#filter_assignees_using_checks`
 * (app/services/issuable_base_service.rb) keeps them: only users who can read the project's issues
 * (`user_can_read?`: in this private project, its members); when none of the given users can, the
 * parameter is dropped and the assignees stay as they were (`undefined`).
 */
function assigneeIds(p: Params, state: FakeState): number[] | undefined {
  const key = ['assignee_ids', 'assignee_ids[]'].some((k) => p[k] !== undefined)
    ? 'assignee_ids'
    : p.assignee_id !== undefined
      ? 'assignee_id'
      : null;
  if (key === null) return undefined;
  const raw = list(p, key) ?? [];
  if (raw.length === 0 || (raw.length === 1 && raw[0] === '0')) return [];
  const ids = raw.map(Number);
  if (ids.some((id) => !Number.isInteger(id))) throw ApiError.badRequest(`${key} is invalid`);
  const readers = ids.filter((id) => state.allUsers().some((u) => u.id === id && u.member));
  return readers.length > 0 ? readers : undefined;
}

/** A path parameter (Express types allow arrays for wildcards; these routes have none). */
function pathParam(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

function integer(value: string, name: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw ApiError.badRequest(`${name} is invalid`);
  return Number(value);
}

/** `order_by` created_at | updated_at (default created_at), `sort` asc | desc (default desc), as lib/api/notes.rb declares them. */
function sortNotes(notes: NoteRecord[], req: Request): NoteRecord[] {
  const sort = req.query.sort ?? 'desc';
  const orderBy = req.query.order_by ?? 'created_at';
  if (sort !== 'asc' && sort !== 'desc') throw ApiError.badRequest('sort does not have a valid value');
  if (orderBy !== 'created_at' && orderBy !== 'updated_at')
    throw ApiError.badRequest('order_by does not have a valid value');
  const key = (n: NoteRecord) => (orderBy === 'updated_at' ? n.updatedAt : n.createdAt).getTime();
  const direction = sort === 'asc' ? 1 : -1;
  return [...notes].sort((a, b) => (key(a) - key(b) || a.id - b.id) * direction);
}

/** Drops the fields a request left out, so the state sees only what was asked. */
function given<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

/** POST /projects/:id/issues: `title` required; `issue_type` one of the types the bot may create. */
function createInput(p: Params, state: FakeState): CreateIssueInput {
  const title = str(p, 'title');
  if (title === undefined) throw ApiError.badRequest('title is missing');
  const description = str(p, 'description');
  const labels = list(p, 'labels');
  const assignees = assigneeIds(p, state);
  const confidential = bool(p, 'confidential');
  const issueType = str(p, 'issue_type');
  if (issueType !== undefined && issueType !== 'issue' && issueType !== 'task')
    throw ApiError.badRequest('issue_type does not have a valid value');
  return given({ title, description, labels, assigneeIds: assignees, confidential, issueType });
}

/** The parameters of `PUT /projects/:id/issues/:iid` the fake reads (lib/api/issues.rb `at_least_one_of`). */
const UPDATE_PARAMS = [
  'title',
  'description',
  'labels',
  'add_labels',
  'remove_labels',
  'assignee_ids',
  'assignee_ids[]',
  'assignee_id',
  'state_event',
  'confidential',
  'discussion_locked',
] as const;

/** PUT /projects/:id/issues/:iid: at least one parameter; `description: null` clears it. */
function updateInput(p: Params, state: FakeState): UpdateIssueInput {
  const stateEvent = str(p, 'state_event');
  if (stateEvent !== undefined && stateEvent !== 'close' && stateEvent !== 'reopen')
    throw ApiError.badRequest('state_event does not have a valid value');
  const input = given<UpdateIssueInput>({
    title: str(p, 'title'),
    description: p.description === null ? null : str(p, 'description'),
    labels: list(p, 'labels'),
    addLabels: list(p, 'add_labels'),
    removeLabels: list(p, 'remove_labels'),
    assigneeIds: assigneeIds(p, state),
    stateEvent,
    confidential: bool(p, 'confidential'),
    discussionLocked: bool(p, 'discussion_locked'),
  });
  // Grape checks that a parameter was sent before the service filters any (an ignored assignee counts).
  const sent = UPDATE_PARAMS.some((k) => p[k] !== undefined);
  if (!sent) throw ApiError.badRequest('at least one parameter must be provided');
  return input;
}

/** What every route needs: the backend, the acting user, and the checked project and issue. */
interface RouteKit {
  backend: ApiBackend;
  state: FakeState;
  actor: (res: Response) => UserRecord;
  ctx: () => EntityContext;
  checkProject: (req: Request) => void;
  /** The `:iid` of an existing issue in the project (404 otherwise). */
  issueIid: (req: Request) => number;
}

function routeKit(backend: ApiBackend): RouteKit {
  const { state } = backend;
  const ctx = () => backend.entities();
  /** `:id` is the numeric id or the URL-encoded `namespace/project` path (case-insensitive). */
  const checkProject = (req: Request) => {
    const { project } = ctx();
    const id = pathParam(req, 'id');
    if (id !== String(project.id) && id.toLowerCase() !== project.path.toLowerCase())
      throw ApiError.notFound('Project');
  };
  const issueIid = (req: Request) => {
    checkProject(req);
    const iid = integer(pathParam(req, 'iid'), 'issue_iid');
    state.issue(iid);
    return iid;
  };
  return { backend, state, actor: (res) => res.locals.actor as UserRecord, ctx, checkProject, issueIid };
}

export function apiRouter(backend: ApiBackend): Router {
  const router = Router();
  const kit = routeKit(backend);
  router.use((req, res, next) => {
    const user = backend.authenticate(req);
    if (!user) {
      res.status(401).json({ message: '401 Unauthorized' });
      return;
    }
    res.locals.actor = user;
    next();
  });
  instanceRoutes(router, kit);
  issueRoutes(router, kit);
  noteRoutes(router, kit);
  repositoryRoutes(router, backend, kit.checkProject, kit.actor);
  mergeRequestRoutes(router, backend, kit.checkProject, kit.actor);
  router.use((_req, res) => {
    res.status(404).json({ error: '404 Not Found' });
  });
  return router;
}

/** The instance, the current user, users, the project and its members. */
function instanceRoutes(router: Router, { backend, state, actor, ctx, checkProject }: RouteKit): void {
  router.get('/version', (_req, res) => {
    res.json({
      version: FAKE_GITLAB_VERSION,
      revision: '0000000000f',
      kas: { enabled: false, externalUrl: null, externalK8sProxyUrl: null, version: null },
      enterprise: true,
    });
  });

  router.get('/user', (_req, res) => {
    const user = actor(res);
    res.json(restCurrentUser(user, ctx(), { bot: user.username === backend.botUsername, admin: user.id === 1 }));
  });

  router.get('/users', (req, res) => {
    const username = str(req.query, 'username')?.toLowerCase();
    const users = state.allUsers().filter((u) => username === undefined || u.username.toLowerCase() === username);
    res.json(paginate(users, req, res, ctx().baseUrl).map((u) => restUser(u, ctx())));
  });

  router.get('/projects/:id', (req, res) => {
    checkProject(req);
    res.json(restProject(ctx()));
  });

  // docs.gitlab.com "Group and project members API": one member, inherited memberships included;
  // 404 when the user is no member (lib/api/members.rb `get ":id/members/all/:user_id"`).
  router.get('/projects/:id/members/all/:user_id', (req, res) => {
    checkProject(req);
    const id = integer(pathParam(req, 'user_id'), 'user_id');
    const user = state.allUsers().find((u) => u.id === id);
    if (!user?.member) throw ApiError.notFound();
    res.json(restMember(user, ctx()));
  });
}

/** Issues and their label events. */
function issueRoutes(router: Router, { backend, state, actor, ctx, checkProject, issueIid }: RouteKit): void {
  router.get('/projects/:id/issues', (req, res) => {
    checkProject(req);
    // `lib/api/issues.rb`: `validate_search_rate_limit! if declared_params[:search].present?`.
    if (typeof req.query.search === 'string' && req.query.search.trim() !== '')
      backend.searchLimiter.check(actor(res).id);
    const issues = queryIssues(state, req.query);
    res.json(paginate(issues, req, res, ctx().baseUrl).map((i) => restIssue(i, ctx())));
  });

  router.post('/projects/:id/issues', (req, res) => {
    checkProject(req);
    const { value } = backend.createIssue(actor(res), createInput(params(req), state));
    res.status(201).json(restIssue(value, ctx()));
  });

  router.get('/projects/:id/issues/:iid', (req, res) => {
    res.json(restIssue(state.issue(issueIid(req)), ctx()));
  });

  router.put('/projects/:id/issues/:iid', (req, res) => {
    const iid = issueIid(req);
    const { value } = backend.updateIssue(actor(res), iid, updateInput(params(req), state));
    res.json(restIssue(value, ctx()));
  });

  router.delete('/projects/:id/issues/:iid', (req, res) => {
    state.deleteIssue(issueIid(req));
    res.status(204).end();
  });

  router.get('/projects/:id/issues/:iid/resource_label_events', (req, res) => {
    const iid = issueIid(req);
    const events = state.labelEventsOf(iid);
    res.json(paginate(events, req, res, ctx().baseUrl).map((e) => restLabelEvent(e, ctx())));
  });
}

/**
 * A note of quick actions only, created or edited: GitLab keeps no note and answers 202 with
 * `Entities::NoteCommands` (`process_note_creation_result`, lib/api/helpers/notes_helpers.rb;
 * lib/api/entities/note.rb). The fake's `summary` names the commands; GitLab's has their messages.
 */
function noteCommands(actions: QuickAction[]): { commands_changes: object; summary: string[] } {
  return { commands_changes: {}, summary: actions.map((a) => `/${a.name}${a.arg ? ` ${a.arg}` : ''}`) };
}

/** Notes on issues. */
function noteRoutes(router: Router, { backend, state, actor, ctx, issueIid }: RouteKit): void {
  router.get('/projects/:id/issues/:iid/notes', (req, res) => {
    const notes = sortNotes(state.notesOf(issueIid(req)), req);
    res.json(paginate(notes, req, res, ctx().baseUrl).map((n) => restNote(n, ctx())));
  });

  router.post('/projects/:id/issues/:iid/notes', (req, res) => {
    const iid = issueIid(req);
    const p = params(req);
    const body = str(p, 'body');
    if (body === undefined) throw ApiError.badRequest('body is missing');
    const internal = bool(p, 'internal') ?? bool(p, 'confidential') ?? false;
    const { value } = backend.createNote(actor(res), iid, body, internal);
    if (value.note === null) {
      res.status(202).json(noteCommands(value.actions));
      return;
    }
    res.status(201).json(restNote(value.note, ctx()));
  });

  router.get('/projects/:id/issues/:iid/notes/:note_id', (req, res) => {
    const iid = issueIid(req);
    res.json(restNote(state.note(iid, integer(pathParam(req, 'note_id'), 'note_id')), ctx()));
  });

  router.put('/projects/:id/issues/:iid/notes/:note_id', (req, res) => {
    const iid = issueIid(req);
    const noteId = integer(pathParam(req, 'note_id'), 'note_id');
    state.note(iid, noteId);
    const body = str(params(req), 'body');
    if (body === undefined) throw ApiError.badRequest('body is missing');
    const { value } = backend.updateNote(actor(res), iid, noteId, body);
    if (value.note === null) {
      res.status(202).json(noteCommands(value.actions));
      return;
    }
    res.json(restNote(value.note, ctx()));
  });

  router.delete('/projects/:id/issues/:iid/notes/:note_id', (req, res) => {
    const iid = issueIid(req);
    const noteId = integer(pathParam(req, 'note_id'), 'note_id');
    // `delete_note` in lib/api/helpers/notes_helpers.rb: `authorize! :admin_note, note`, as for edits.
    if (!state.canAdminNote(actor(res).id, state.note(iid, noteId))) throw ApiError.forbidden();
    state.deleteNote(iid, noteId);
    res.status(204).end();
  });
}

/** GitLab-shaped error bodies; anything unexpected is a bug in the fake, so it is logged. */
export const errorHandler: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  if (err instanceof ApiError) {
    res.status(err.status).set(err.headers).json(err.body);
    return;
  }
  if (typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'entity.parse.failed') {
    res.status(400).json({ error: 'The request body is not valid JSON' });
    return;
  }
  console.error('fake GitLab: unexpected error', err);
  res.status(500).json({ message: '500 Internal Server Error' });
};
