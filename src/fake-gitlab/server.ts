import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG_PATH } from '../config/load-config.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import {
  issueInput,
  labelInputs,
  noteInput,
  projectInput,
  restIssue,
  restLabelEvent,
  restNote,
  userInput,
  userInputs,
  type EntityContext,
  type ProjectInfo,
  type RestIssue,
  type RestLabelEvent,
  type RestNote,
} from './entities.js';
import { Faults, type Fault, type FaultMatcher } from './faults.js';
import { ApplicationRateLimiter, RackAttackThrottle } from './rate-limits.js';
import { inspectText } from './note-safety.js';
import {
  issueHookPayload,
  noteHookPayload,
  pushHookPayload,
  webhookEventName,
  type IssueChangesInput,
  type NoteAction,
} from './payloads.js';
import { FakeOAuth, INSUFFICIENT_SCOPE, scopeAllows, type OAuthApplication } from './oauth.js';
import type { QuickAction } from './quick-actions.js';
import { apiRouter, errorHandler, type ApiBackend, type Written } from './routes.js';
import {
  ACCESS_LEVELS,
  FakeState,
  type Role,
  type CreateIssueInput,
  type IssueRecord,
  type IssueStep,
  type IssueType,
  type NoteRecord,
  type UpdateIssueInput,
  type UserRecord,
} from './state.js';
import { DEFAULT_BRANCH, FakeRepository } from './repository.js';
import { FakeMergeRequests } from './merge-requests.js';
import { WebhookDispatcher, type Delivery, type WebhookTarget } from './webhooks.js';

/**
 * An in-memory GitLab on 127.0.0.1 for end-to-end tests, benchmarks and the demo: the REST API v4
 * endpoints the bot calls, people acting in the project (`as(username)`) with the webhooks GitLab
 * would send, fault injection, and a check of everything the bot writes.
 */

export type {
  Delivery,
  Fault,
  FaultMatcher,
  OAuthApplication,
  RestIssue,
  RestLabelEvent,
  RestNote,
  Role,
  WebhookTarget,
};

export interface FakeGitLabOptions {
  /** Delay before answering every API request. */
  latencyMs?: number;
  /** The bot's username (default `scale-bot`). */
  botUsername?: string;
  /** The bot's API token (default `<botUsername>-token`). */
  botToken?: string;
  /** Where webhooks go; settable later with `setWebhook`. */
  webhook?: WebhookTarget | null;
  /** Default `sales/scale-engagement-requests`. */
  projectPath?: string;
  /** Default 1. */
  projectId?: number;
  /** Fire webhooks for the bot's own API writes, as GitLab does (default true). */
  emitBotEvents?: boolean;
  /**
   * People besides `root` (the instance admin, Owner of the project) and the bot (a Reporter), with
   * their project role (default Developer). Default: the example roster of `.gitlab/scale-bot.yml`.
   */
  users?: Array<{ username: string; name: string; role?: Role }>;
  /** Labels the project has from the start. Quick actions only apply labels that exist. */
  labels?: string[];
  /** The fake's clock (default: the real one). */
  now?: () => Date;
  /**
   * `search_rate_limit`: searches a minute per user (default 30, GitLab's default and GitLab.com's
   * setting, docs "Rate limits on issue/search": user/admin/settings/search_rate_limits.md); 0 for none.
   */
  searchRateLimit?: number;
  /**
   * `throttle_authenticated_api`: API requests a minute per user, reported in `RateLimit-*` headers
   * (default 2000, GitLab.com's "Authenticated API traffic (for a given user)", docs.gitlab.com
   * "GitLab.com settings" / "GitLab.com rate limits").
   */
  apiRateLimit?: number;
  /**
   * The licence tier (default `premium`). Scoped labels are exclusive from Premium on; on `free`
   * they are plain labels (docs: user/project/labels.md#scoped-labels).
   */
  tier?: 'free' | 'premium';
  /**
   * Files of the first commit on `main` (default: the bundled `.gitlab/scale-bot.yml` and issue
   * templates, as a request project that adopted the bot has them); `{}` for an empty repository.
   */
  repository?: Record<string, string>;
}

export interface RecordedCall {
  method: string;
  /** The request path, e.g. `/api/v4/projects/1/issues/3/notes`. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  /** Null while unanswered (or never, for a hang). */
  status: number | null;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** The token's user, or null without a valid token. */
  actor: string | null;
  /**
   * The personal access token's id (what `addToken` returned), or null for none or an OAuth
   * token: GitLab's API log records it as `token_id` (lib/gitlab/grape_logging/loggers/token_logger.rb).
   */
  tokenId: number | null;
}

export interface Mention {
  iid: number;
  /** Null for a description. */
  noteId: number | null;
  username: string;
}

export interface FakeUser {
  id: number;
  username: string;
  name: string;
  role: Role;
}

/** What a person does in the GitLab UI; each call resolves once its webhooks were answered. */
export interface FakeGitLabActor {
  createIssue(input: {
    title: string;
    description?: string;
    labels?: string[];
    confidential?: boolean;
    issueType?: IssueType;
  }): Promise<RestIssue>;
  editIssue(
    iid: number,
    change: {
      description?: string;
      title?: string;
      addLabels?: string[];
      removeLabels?: string[];
      assignees?: string[];
    },
  ): Promise<RestIssue>;
  closeIssue(iid: number): Promise<RestIssue>;
  reopenIssue(iid: number): Promise<RestIssue>;
  /** Null when the comment held only quick actions (GitLab then saves no note). */
  comment(iid: number, body: string, options?: { internal?: boolean }): Promise<RestNote | null>;
  /** Null when the edited comment held only quick actions (GitLab then deletes it). */
  editComment(iid: number, noteId: number, body: string): Promise<RestNote | null>;
  /** As an owner would; GitLab sends no webhook for it. */
  deleteIssue(iid: number): void;
  /** Any comment, as a maintainer would (the bot's too); no webhook either. */
  deleteNote(iid: number, noteId: number): void;
}

export interface SeedIssue {
  title: string;
  description: string | null;
  labels: string[];
  /** Username (default `root`). */
  author: string;
  assignees: string[];
  state: 'opened' | 'closed';
  confidential: boolean;
  issueType: IssueType;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date;
  /** Label events, oldest first, by username (the issue's `labels` are its labels now). */
  history: ReadonlyArray<{ label: string; action: 'add' | 'remove'; at: Date; by: string }>;
}

export interface FakeGitLab {
  /** `http://127.0.0.1:<port>`, also the instance URL in web URLs and `X-Gitlab-Instance`. */
  readonly url: string;
  /** `<url>/api/v4`. */
  readonly apiUrl: string;
  readonly botUsername: string;
  readonly botToken: string;
  readonly project: { id: number; path_with_namespace: string; web_url: string };
  /** Every HTTP request, in arrival order. */
  readonly calls: RecordedCall[];
  /** Every webhook POST, in order. */
  readonly deliveries: Delivery[];
  /** What GitLab would act on in text the bot wrote: quick actions, stray mentions, references. */
  readonly violations: string[];
  /** Every `@mention` the bot wrote, allowed or not. */
  readonly mentions: Mention[];

  /** A project member with that role (default Developer). */
  addUser(username: string, name?: string, role?: Role): FakeUser;
  /** A personal access token of that user; returns its id (as `RecordedCall.tokenId` shows it). */
  addToken(token: string, username: string): number;
  /** A user of the instance who is no member of the project. */
  addOutsider(username: string, name?: string): FakeUser;
  /** Removes someone from the project, as a maintainer would; they stay a user of the instance. */
  removeMember(username: string): void;
  /** Registers an OAuth application (the status page's sign-in) with its one redirect URI; id and secret may be given. */
  addOAuthApplication(
    redirectUri: string,
    scopes?: string[],
    credentials?: { id: string; secret: string },
    trusted?: boolean,
  ): OAuthApplication;
  /** Who is signed in to GitLab in the browser: a trusted application's sign-in then needs no click. */
  setBrowserUser(username: string | null): void;
  addLabel(name: string, options?: { color?: string; description?: string }): { id: number; name: string };
  setWebhook(webhook: WebhookTarget | null): void;

  setLatency(ms: number): void;
  failNext(matcher: FaultMatcher, fault: Fault, times?: number): void;

  callsBy(username: string): RecordedCall[];
  /** Calls other than GET. */
  writes(): RecordedCall[];
  resetCalls(): void;

  as(username: string): FakeGitLabActor;
  /** Adds issues directly (no webhooks, events or quick actions); returns their iids. */
  seedIssues(count: number, make?: (index: number) => Partial<SeedIssue>): number[];

  /** Re-sends delivery `deliveryIndex` like GitLab's "Resend request" (same `Idempotency-Key`). */
  resend(deliveryIndex: number): Promise<Delivery>;
  /** Posts any headers and body to the webhook URL. */
  sendRaw(headers: Record<string, string>, body: string | object): Promise<Delivery>;
  /** Resolves once every webhook fired so far has been answered. */
  settled(): Promise<void>;

  issue(iid: number): RestIssue;
  /** All notes, system notes included, oldest first. */
  notes(iid: number): RestNote[];
  /** The bot's own (non-system) notes, oldest first. */
  botNotes(iid: number): RestNote[];
  labelEvents(iid: number): RestLabelEvent[];
  assertNoViolations(): void;

  /**
   * A push of one commit to `main` (a merged merge request) or to `branch`: `files` maps paths to
   * new content, or null to delete. Resolves with the commit's SHA once its Push Hook was answered.
   */
  push(
    files: Record<string, string | null>,
    options?: { message?: string; as?: string; branch?: string },
  ): Promise<string>;
  /** Opens a merge request of `sourceBranch` into `main`; resolves with its iid. */
  openMergeRequest(input: { sourceBranch: string; title: string; as: string }): number;
  /** The notes on a merge request, oldest first. */
  mergeRequestNotes(iid: number): Array<{ id: number; body: string; author: string }>;
  /** The head of `main`, or null for an empty repository. */
  head(): string | null;
  /** Comments on a commit, oldest first. */
  commitComments(sha: string): Array<{ note: string; author: string }>;

  /** Closes the server, drops held requests and aborts webhook deliveries. */
  stop(): Promise<void>;
}

/** The bundled `.gitlab/` folder: the configuration and the templates generated from it. */
function bundledRepository(): Record<string, string> {
  const files: Record<string, string> = {
    [DEFAULT_CONFIG_PATH]: readFileSync(join(PACKAGE_ROOT, DEFAULT_CONFIG_PATH), 'utf8'),
  };
  const templates = join(PACKAGE_ROOT, '.gitlab', 'issue_templates');
  for (const name of readdirSync(templates))
    files[`.gitlab/issue_templates/${name}`] = readFileSync(join(templates, name), 'utf8');
  return files;
}

/**
 * The example roster of `.gitlab/scale-bot.yml`, so the demo and e2e tests find their people, with
 * the roles such a project gives them: account owners and most CSEs are Reporters (the README's
 * roles table), one CSE a Developer, the manager a Maintainer.
 */
const DEFAULT_PEOPLE: ReadonlyArray<{ username: string; name: string; role: Role }> = [
  { username: 'alex.ae', name: 'Alex Morgan', role: 'reporter' },
  { username: 'sam.sal', name: 'Sam Rivera', role: 'reporter' },
  { username: 'jordan.ae', name: 'Jordan Lee', role: 'reporter' },
  { username: 'casey.cse', name: 'Casey Kim', role: 'developer' },
  { username: 'drew.cse', name: 'Drew Patel', role: 'reporter' },
  { username: 'emery.cse', name: 'Emery Chen', role: 'reporter' },
  { username: 'finley.cse', name: 'Finley Novak', role: 'reporter' },
  { username: 'gray.cse', name: 'Gray Okafor', role: 'reporter' },
  { username: 'harper.mgr', name: 'Harper Quinn', role: 'maintainer' },
];

/** Mentions that notify more than one person; always a violation in bot text. */
const BROADCAST_MENTIONS = new Set(['all', 'here']);

function roleOf(user: UserRecord): Role {
  return (Object.keys(ACCESS_LEVELS) as Role[]).find((r) => ACCESS_LEVELS[r] === user.accessLevel)!;
}

function titleCase(path: string): string {
  return path.replace(/[-_]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
}

/** What changed between two versions of an issue, as an Issue Hook's `changes` reports it. */
function issueChanges(step: IssueStep, ctx: EntityContext): IssueChangesInput {
  const { before, after } = step;
  if (before === null) {
    // A new issue: its attributes, from nothing (`previous_changes` after the insert).
    return {
      author_id: { previous: null, current: after.authorId },
      created_at: { previous: null, current: after.createdAt },
      description: { previous: null, current: after.description },
      id: { previous: null, current: after.id },
      iid: { previous: null, current: after.iid },
      project_id: { previous: null, current: ctx.project.id },
      title: { previous: null, current: after.title },
      updated_at: { previous: null, current: after.updatedAt },
      ...(after.confidential ? { confidential: { previous: false, current: true } } : {}),
    };
  }
  const changes: IssueChangesInput = {};
  const same = (a: unknown, b: unknown) =>
    a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
  const scalar = <K extends keyof IssueChangesInput>(key: K, a: unknown, b: unknown) => {
    if (!same(a, b)) changes[key] = { previous: a, current: b } as IssueChangesInput[K];
  };
  scalar('title', before.title, after.title);
  scalar('description', before.description, after.description);
  scalar('confidential', before.confidential, after.confidential);
  scalar('state_id', before.state === 'opened' ? 1 : 2, after.state === 'opened' ? 1 : 2);
  scalar('closed_at', before.closedAt, after.closedAt);
  scalar('last_edited_at', before.lastEditedAt, after.lastEditedAt);
  scalar('last_edited_by_id', before.lastEditedById, after.lastEditedById);
  scalar('updated_by_id', before.updatedById, after.updatedById);
  scalar('updated_at', before.updatedAt, after.updatedAt);
  const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((id, i) => id === b[i]);
  if (!sameList(before.labelIds, after.labelIds))
    changes.labels = { previous: labelInputs(before.labelIds, ctx), current: labelInputs(after.labelIds, ctx) };
  if (!sameList(before.assigneeIds, after.assigneeIds))
    changes.assignees = { previous: userInputs(before.assigneeIds, ctx), current: userInputs(after.assigneeIds, ctx) };
  return changes;
}

class FakeGitLabServer implements FakeGitLab, ApiBackend {
  url = '';
  apiUrl = '';
  readonly botUsername: string;
  readonly botToken: string;
  readonly state: FakeState;
  readonly repository: FakeRepository;
  readonly mergeRequests: FakeMergeRequests;
  readonly calls: RecordedCall[] = [];
  readonly violations: string[] = [];
  readonly mentions: Mention[] = [];
  /** Personal access tokens: the user and the token's id. */
  private readonly tokens = new Map<string, { userId: number; tokenId: number }>();
  private readonly oauth: FakeOAuth;
  private readonly info: ProjectInfo;
  private readonly faults = new Faults();
  private readonly dispatcher: WebhookDispatcher;
  private webhook: WebhookTarget | null;
  private readonly emitBotEvents: boolean;
  readonly searchLimiter: ApplicationRateLimiter;
  private readonly apiThrottle: RackAttackThrottle;
  private server: Server | null = null;

  constructor(options: FakeGitLabOptions) {
    const now = options.now ?? (() => new Date());
    const path = options.projectPath ?? 'sales/scale-engagement-requests';
    const namespace = path.slice(0, path.lastIndexOf('/')) || path;
    this.info = {
      id: options.projectId ?? 1,
      path,
      name: titleCase(path.slice(path.lastIndexOf('/') + 1)),
      namespace: titleCase(namespace.split('/').pop() ?? namespace),
      createdAt: now(),
    };
    this.state = new FakeState(this.info.id, now, { scopedLabels: (options.tier ?? 'premium') === 'premium' });
    this.searchLimiter = new ApplicationRateLimiter(options.searchRateLimit ?? 30, 60);
    this.apiThrottle = new RackAttackThrottle('throttle_authenticated_api', options.apiRateLimit ?? 2000, 60);
    this.repository = new FakeRepository(now);
    this.mergeRequests = new FakeMergeRequests(now);
    const initial = options.repository ?? bundledRepository();
    if (Object.keys(initial).length > 0)
      this.repository.commit(initial, 'Initial commit', { name: 'Administrator', email: 'admin@example.com' });
    this.botUsername = options.botUsername ?? 'scale-bot';
    this.botToken = options.botToken ?? `${this.botUsername}-token`;
    this.webhook = options.webhook ?? null;
    this.emitBotEvents = options.emitBotEvents ?? true;
    this.faults.latencyMs = options.latencyMs ?? 0;
    this.dispatcher = new WebhookDispatcher(
      () => this.webhook,
      () => this.url,
    );

    this.state.addUser('root', 'Administrator', { id: 1, role: 'owner' });
    this.state.addUser(this.botUsername, titleCase(this.botUsername), { id: 2, role: 'reporter' });
    for (const person of options.users ?? DEFAULT_PEOPLE)
      this.state.addUser(person.username, person.name, person.role ? { role: person.role } : {});
    for (const label of options.labels ?? []) this.state.addLabel(label);
    this.addToken(this.botToken, this.botUsername);
    this.addToken('root-token', 'root');
    this.oauth = new FakeOAuth(this.state, () => now().getTime());
  }

  get deliveries(): Delivery[] {
    return this.dispatcher.deliveries;
  }

  get project(): FakeGitLab['project'] {
    return { id: this.info.id, path_with_namespace: this.info.path, web_url: `${this.url}/${this.info.path}` };
  }

  async listen(): Promise<void> {
    const app = express();
    app.disable('x-powered-by');
    app.use((req, res, next) => {
      const call: RecordedCall = {
        method: req.method,
        path: req.path,
        query: { ...req.query },
        body: undefined,
        status: null,
        at: Date.now(),
        actor: this.authenticate(req)?.username ?? null,
        tokenId: this.tokens.get(this.tokenOf(req) ?? '')?.tokenId ?? null,
      };
      this.calls.push(call);
      res.locals.call = call;
      res.on('finish', () => {
        call.status = res.statusCode;
      });
      next();
    });
    // GitLab accepts webhook-sized bodies; the bot's notes stay far below this.
    app.use(express.json({ limit: '25mb' }), express.urlencoded({ extended: false, limit: '25mb' }));
    app.use((req, res, next) => {
      (res.locals.call as RecordedCall).body = req.body;
      next();
    });
    app.use(this.faults.middleware());
    app.use('/oauth', this.oauth.router());
    app.use('/api/v4', (req, res, next) => {
      const user = this.authenticate(req);
      if (user) res.set(this.apiThrottle.count(user.id));
      const token = this.oauth.token(this.tokenOf(req) ?? '');
      if (token && !scopeAllows(token.scopes, req.method, req.path)) res.status(403).json(INSUFFICIENT_SCOPE);
      else next();
    });
    app.use('/api/v4', apiRouter(this));
    app.use((_req, res) => {
      res.status(404).json({ error: '404 Not Found' });
    });
    app.use(errorHandler);

    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.apiUrl = `${this.url}/api/v4`;
  }

  // --- ApiBackend -----------------------------------------------------------------------------

  entities(): EntityContext {
    return { state: this.state, project: this.info, baseUrl: this.url };
  }

  private tokenOf(req: Request): string | undefined {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    return (req.get('private-token') ?? bearer)?.trim();
  }

  authenticate(req: Request): UserRecord | undefined {
    const token = this.tokenOf(req);
    const id = token === undefined ? undefined : (this.tokens.get(token)?.userId ?? this.oauth.token(token)?.userId);
    return id === undefined ? undefined : this.state.user(id);
  }

  createIssue(actor: UserRecord, input: CreateIssueInput): Written<IssueRecord> {
    const { issue, steps } = this.state.createIssue(actor.id, input);
    if (this.isBot(actor)) this.inspect(input.description, issue.iid, null);
    return { value: issue, delivered: this.emit(actor, steps, []) };
  }

  updateIssue(actor: UserRecord, iid: number, input: UpdateIssueInput): Written<IssueRecord> {
    const steps = this.state.updateIssue(actor.id, iid, input);
    if (this.isBot(actor) && input.description !== undefined) this.inspect(input.description, iid, null);
    return { value: this.state.issue(iid), delivered: this.emit(actor, steps, []) };
  }

  createNote(
    actor: UserRecord,
    iid: number,
    body: string,
    internal: boolean,
  ): Written<{ note: NoteRecord | null; actions: QuickAction[] }> {
    const { note, steps, actions } = this.state.createNote(actor.id, iid, body, internal);
    if (this.isBot(actor)) this.inspect(body, iid, note?.id ?? null);
    return { value: { note, actions }, delivered: this.emit(actor, steps, note ? [{ note, action: 'create' }] : []) };
  }

  updateNote(
    actor: UserRecord,
    iid: number,
    noteId: number,
    body: string,
  ): Written<{ note: NoteRecord | null; actions: QuickAction[] }> {
    const { note, changed, steps, actions } = this.state.updateNote(actor.id, iid, noteId, body);
    if (this.isBot(actor)) this.inspect(body, iid, noteId);
    // No note hook for a note left with commands only, nor for an unchanged text (`execute_note_webhook`).
    const hooks = note && changed ? [{ note, action: 'update' as const }] : [];
    return { value: { note, actions }, delivered: this.emit(actor, steps, hooks) };
  }

  // --- FakeGitLab -----------------------------------------------------------------------------

  /** One commit on `branch` (default `main`; another branch starts from `main`), and its Push Hook. */
  async push(
    files: Record<string, string | null>,
    options: { message?: string; as?: string; branch?: string } = {},
  ): Promise<string> {
    const user = this.state.userByUsername(options.as ?? 'root');
    if (!user) throw new Error(`fake GitLab: no user "${options.as}"`);
    const branch = options.branch ?? DEFAULT_BRANCH;
    const before = this.repository.head(branch);
    const commit = this.repository.commit(
      files,
      options.message ?? 'Update files',
      { name: user.name, email: `${user.username}@example.com` },
      branch,
    );
    const changed = (kind: 'added' | 'modified' | 'removed') =>
      Object.entries(files)
        .filter(([path, content]) =>
          kind === 'removed'
            ? content === null && before?.files.has(path)
            : content !== null && (kind === 'added') !== (before?.files.has(path) ?? false),
        )
        .map(([path]) => path);
    const payload = pushHookPayload({
      project: projectInput(this.entities()),
      user: userInput(user),
      branch,
      // GitLab's blank ref for a branch's first push.
      before: before?.sha ?? '0000000000000000000000000000000000000000',
      after: commit.sha,
      commits: [
        {
          id: commit.sha,
          message: commit.message,
          title: commit.title,
          timestamp: commit.createdAt.toISOString(),
          authorName: commit.authorName,
          authorEmail: commit.authorEmail,
          added: changed('added'),
          modified: changed('modified'),
          removed: changed('removed'),
        },
      ],
    });
    await this.dispatcher.deliver('Push Hook', payload, randomUUID());
    return commit.sha;
  }

  openMergeRequest(input: { sourceBranch: string; title: string; as: string }): number {
    const author = this.state.userByUsername(input.as);
    if (!author) throw new Error(`fake GitLab: no user "${input.as}"`);
    return this.mergeRequests.open({
      title: input.title,
      sourceBranch: input.sourceBranch,
      targetBranch: DEFAULT_BRANCH,
      authorId: author.id,
    }).iid;
  }

  mergeRequestNotes(iid: number): Array<{ id: number; body: string; author: string }> {
    return this.mergeRequests
      .get(iid)
      .notes.map((n) => ({ id: n.id, body: n.body, author: this.state.user(n.authorId).username }));
  }

  head(): string | null {
    return this.repository.head()?.sha ?? null;
  }

  commitComments(sha: string): Array<{ note: string; author: string }> {
    return this.repository.commentsOn(sha).map((c) => ({ note: c.note, author: this.state.user(c.authorId).username }));
  }

  addUser(username: string, name?: string, role?: Role): FakeUser {
    const user = this.state.addUser(username, name ?? titleCase(username.replace(/\./g, ' ')), role ? { role } : {});
    return { id: user.id, username: user.username, name: user.name, role: roleOf(user) };
  }

  addToken(token: string, username: string): number {
    const user = this.state.userByUsername(username);
    if (!user) throw new Error(`fake GitLab: no user "${username}" (addUser first)`);
    const tokenId = this.tokens.get(token)?.tokenId ?? this.tokens.size + 1;
    this.tokens.set(token, { userId: user.id, tokenId });
    return tokenId;
  }

  addOutsider(username: string, name?: string): FakeUser {
    const user = this.state.addUser(username, name ?? titleCase(username.replace(/\./g, ' ')), { member: false });
    return { id: user.id, username: user.username, name: user.name, role: roleOf(user) };
  }

  removeMember(username: string): void {
    const user = this.state.userByUsername(username);
    if (!user) throw new Error(`fake GitLab: no user "${username}"`);
    this.state.revision++;
    user.member = false;
  }

  addOAuthApplication(
    redirectUri: string,
    scopes?: string[],
    credentials?: { id: string; secret: string },
    trusted?: boolean,
  ): OAuthApplication {
    return this.oauth.addApplication(redirectUri, scopes, credentials, trusted);
  }

  setBrowserUser(username: string | null): void {
    this.oauth.setBrowserUser(username);
  }

  addLabel(name: string, options: { color?: string; description?: string } = {}): { id: number; name: string } {
    const { id } = this.state.addLabel(name, options);
    return { id, name };
  }

  setWebhook(webhook: WebhookTarget | null): void {
    this.webhook = webhook;
  }

  setLatency(ms: number): void {
    this.faults.latencyMs = ms;
  }

  failNext(matcher: FaultMatcher, fault: Fault, times = 1): void {
    this.faults.add(matcher, fault, times);
  }

  callsBy(username: string): RecordedCall[] {
    const key = username.toLowerCase();
    return this.calls.filter((c) => c.actor?.toLowerCase() === key);
  }

  writes(): RecordedCall[] {
    return this.calls.filter((c) => c.method !== 'GET' && c.method !== 'HEAD');
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  as(username: string): FakeGitLabActor {
    const who = () => {
      const user = this.state.userByUsername(username);
      if (!user) throw new Error(`fake GitLab: no user "${username}" (addUser first)`);
      return user;
    };
    const issueAfter = async (written: Written<IssueRecord>) => {
      await written.delivered;
      return restIssue(written.value, this.entities());
    };
    const userIds = (usernames: string[]) =>
      usernames.map((name) => {
        const user = this.state.userByUsername(name.replace(/^@/, ''));
        if (!user) throw new Error(`fake GitLab: no user "${name}"`);
        return user.id;
      });
    return {
      createIssue: (input) => issueAfter(this.createIssue(who(), input)),
      editIssue: (iid, change) =>
        issueAfter(
          this.updateIssue(who(), iid, {
            ...(change.title !== undefined ? { title: change.title } : {}),
            ...(change.description !== undefined ? { description: change.description } : {}),
            ...(change.addLabels !== undefined ? { addLabels: change.addLabels } : {}),
            ...(change.removeLabels !== undefined ? { removeLabels: change.removeLabels } : {}),
            ...(change.assignees !== undefined ? { assigneeIds: userIds(change.assignees) } : {}),
          }),
        ),
      closeIssue: (iid) => issueAfter(this.updateIssue(who(), iid, { stateEvent: 'close' })),
      reopenIssue: (iid) => issueAfter(this.updateIssue(who(), iid, { stateEvent: 'reopen' })),
      comment: async (iid, body, options) => {
        const written = this.createNote(who(), iid, body, options?.internal ?? false);
        await written.delivered;
        return written.value.note && restNote(written.value.note, this.entities());
      },
      editComment: async (iid, noteId, body) => {
        const written = this.updateNote(who(), iid, noteId, body);
        await written.delivered;
        return written.value.note && restNote(written.value.note, this.entities());
      },
      deleteIssue: (iid) => this.state.deleteIssue(iid),
      deleteNote: (iid, noteId) => this.state.deleteNote(iid, noteId),
    };
  }

  seedIssues(count: number, make?: (index: number) => Partial<SeedIssue>): number[] {
    const userId = (username: string) => {
      const user = this.state.userByUsername(username);
      if (!user) throw new Error(`fake GitLab: no user "${username}"`);
      return user.id;
    };
    const iids: number[] = [];
    for (let i = 0; i < count; i++) {
      const seed = make?.(i) ?? {};
      const issue = this.state.seedIssue({
        title: seed.title ?? `Seeded issue ${i + 1}`,
        description: seed.description ?? null,
        labels: seed.labels ?? [],
        authorId: userId(seed.author ?? 'root'),
        assigneeIds: (seed.assignees ?? []).map(userId),
        ...(seed.state !== undefined ? { state: seed.state } : {}),
        ...(seed.confidential !== undefined ? { confidential: seed.confidential } : {}),
        ...(seed.issueType !== undefined ? { issueType: seed.issueType } : {}),
        ...(seed.createdAt !== undefined ? { createdAt: seed.createdAt } : {}),
        ...(seed.updatedAt !== undefined ? { updatedAt: seed.updatedAt } : {}),
        ...(seed.closedAt !== undefined ? { closedAt: seed.closedAt } : {}),
        ...(seed.history !== undefined
          ? { history: seed.history.map((e) => ({ label: e.label, action: e.action, at: e.at, userId: userId(e.by) })) }
          : {}),
      });
      iids.push(issue.iid);
    }
    return iids;
  }

  resend(deliveryIndex: number): Promise<Delivery> {
    return this.dispatcher.resend(deliveryIndex);
  }

  sendRaw(headers: Record<string, string>, body: string | object): Promise<Delivery> {
    return this.dispatcher.sendRaw(headers, body);
  }

  settled(): Promise<void> {
    return this.dispatcher.settled();
  }

  issue(iid: number): RestIssue {
    return restIssue(this.state.issue(iid), this.entities());
  }

  notes(iid: number): RestNote[] {
    return this.state.notesOf(this.state.issue(iid).iid).map((n) => restNote(n, this.entities()));
  }

  botNotes(iid: number): RestNote[] {
    return this.notes(iid).filter((n) => !n.system && n.author.username === this.botUsername);
  }

  labelEvents(iid: number): RestLabelEvent[] {
    return this.state.labelEventsOf(this.state.issue(iid).iid).map((e) => restLabelEvent(e, this.entities()));
  }

  assertNoViolations(): void {
    if (this.violations.length > 0) {
      throw new Error(`the bot wrote text GitLab would act on:\n${this.violations.map((v) => `  - ${v}`).join('\n')}`);
    }
  }

  async stop(): Promise<void> {
    this.dispatcher.close();
    this.faults.release();
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  // --- internals ------------------------------------------------------------------------------

  private isBot(user: UserRecord): boolean {
    return user.username.toLowerCase() === this.botUsername.toLowerCase();
  }

  /** Records what GitLab would act on in text the bot wrote. */
  private inspect(text: string | null | undefined, iid: number, noteId: number | null): void {
    if (!text) return;
    const where = noteId === null ? `description of #${iid}` : `note ${noteId} on #${iid}`;
    const findings = inspectText(text);
    for (const line of findings.quickActions) this.violations.push(`${where}: quick action line "${line}"`);
    for (const username of findings.mentions) {
      this.mentions.push({ iid, noteId, username });
      if (BROADCAST_MENTIONS.has(username.toLowerCase()) || !this.state.userByUsername(username))
        this.violations.push(`${where}: mention @${username}`);
    }
    for (const reference of findings.references) this.violations.push(`${where}: reference ${reference}`);
  }

  /**
   * Fires the webhooks for one write: note hooks, then one Issue Hook per step. They share one
   * `X-Gitlab-Event-UUID`, as hooks triggered by one GitLab request do.
   */
  private emit(
    actor: UserRecord,
    steps: IssueStep[],
    notes: Array<{ note: NoteRecord; action: NoteAction }>,
  ): Promise<void> {
    if (this.isBot(actor) && !this.emitBotEvents) return Promise.resolve();
    const ctx = this.entities();
    const eventUuid = randomUUID();
    const project = projectInput(ctx);
    const user = userInput(actor);
    const sent: Array<Promise<unknown>> = [];
    for (const { note, action } of notes) {
      // An edit's hook names the note's author, not the editor (`Notes::UpdateService#execute_note_webhook`:
      // `Gitlab::DataBuilder::Note.build(note, note.author, :update)`); the editor is `updated_by_id`.
      const hookUser = action === 'update' ? userInput(this.state.user(note.authorId)) : user;
      const payload = noteHookPayload({
        note: noteInput(note, ctx),
        issue: issueInput(this.state.issue(note.iid), ctx),
        project,
        user: hookUser,
        action,
      });
      sent.push(this.dispatcher.deliver(webhookEventName(payload), payload, eventUuid));
    }
    for (const step of steps) {
      const payload = issueHookPayload({
        action: step.action,
        issue: issueInput(step.after, ctx),
        project,
        user,
        changes: issueChanges(step, ctx),
      });
      sent.push(this.dispatcher.deliver(webhookEventName(payload), payload, eventUuid));
    }
    return Promise.all(sent).then(() => undefined);
  }
}

export async function startFakeGitLab(options: FakeGitLabOptions = {}): Promise<FakeGitLab> {
  const fake = new FakeGitLabServer(options);
  await fake.listen();
  return fake;
}
