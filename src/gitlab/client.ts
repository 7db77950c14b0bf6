import {
  Commits,
  IssueLabelEvents,
  IssueNotes,
  Issues,
  MergeRequestNotes,
  ProjectMembers,
  Projects,
  RepositoryFiles,
  Users,
} from '@gitbeaker/rest';
import {
  apiCommitCommentSchema,
  apiCommitSchema,
  apiIssueSchema,
  apiRepositoryFileSchema,
  apiLabelEventSchema,
  apiNoteSchema,
  apiProjectSchema,
  apiUserSchema,
  validated,
  type ApiIssue,
  type ApiLabelEvent,
  type ApiNote,
  type ApiProject,
  type ApiUser,
} from './api-schemas.js';
import { GitLabHttpError, UnknownUserError } from './errors.js';
import type { Requester } from './requester.js';
import { z } from 'zod';

/** Which issues to list; GitLab's `created_`/`updated_` `after` / `before` are inclusive. */
export interface IssueFilter {
  state?: 'opened' | 'closed';
  createdAfter?: string;
  createdBefore?: string;
  updatedAfter?: string;
  updatedBefore?: string;
  /** By creation time: oldest first (the default) or newest first. */
  sort?: 'asc' | 'desc';
}

export interface GitLabConnection {
  url: string;
  token: string;
  /** The request project: numeric id or `group/project` path. */
  project: string | number;
}

/**
 * The few GitLab calls the bot makes, through `@gitbeaker/rest` resources given the bot's own
 * requester (pacing, retries) in place of rest's fetch-based one. Every answer is validated; callers
 * get plain typed objects.
 */
export class GitLabClient {
  private readonly issues: Issues;
  private readonly notes: IssueNotes;
  private readonly users: Users;
  private readonly projects: Projects;
  private readonly labelEventsApi: IssueLabelEvents;
  private readonly files: RepositoryFiles;
  private readonly commits: Commits;
  private readonly members: ProjectMembers;
  private readonly mrNotes: MergeRequestNotes;
  private readonly userIds = new Map<string, number>();
  readonly project: string | number;

  constructor(connection: GitLabConnection, requester: Requester) {
    // queryTimeout null: the requester times each call itself (gitbeaker's AbortSignal.timeout of
    // 5 minutes per GET would keep every answer in memory that long).
    const options = {
      host: connection.url.replace(/\/+$/, ''),
      token: connection.token,
      requesterFn: requester.requesterFn,
      queryTimeout: null,
    };
    this.issues = new Issues(options);
    this.notes = new IssueNotes(options);
    this.users = new Users(options);
    this.projects = new Projects(options);
    this.labelEventsApi = new IssueLabelEvents(options);
    this.files = new RepositoryFiles(options);
    this.commits = new Commits(options);
    this.members = new ProjectMembers(options);
    this.mrNotes = new MergeRequestNotes(options);
    this.project = connection.project;
  }

  async currentUser(): Promise<ApiUser> {
    return validated(apiUserSchema, await this.users.showCurrentUser(), 'GET /user');
  }

  async getProject(): Promise<ApiProject> {
    return validated(apiProjectSchema, await this.projects.show(this.project), 'GET /projects/:id');
  }

  async issue(iid: number): Promise<ApiIssue> {
    return validated(
      apiIssueSchema,
      await this.issues.show(iid, { projectId: this.project }),
      'GET /projects/:id/issues/:iid',
    );
  }

  /** Every note on the issue, oldest first (all pages). */
  async allNotes(iid: number): Promise<ApiNote[]> {
    const get = (page: number) => this.notes.all(this.project, iid, notesPage(page));
    return collect(pagesOf(apiNoteSchema, 'GET /projects/:id/issues/:iid/notes', get as never));
  }

  /** The issue's label history, oldest first (all pages): who moved the workflow, and when. */
  async labelEvents(iid: number): Promise<ApiLabelEvent[]> {
    const get = (page: number) =>
      this.labelEventsApi.all(this.project, iid, { perPage: PER_PAGE, page, showExpanded: true } as never);
    return collect(pagesOf(apiLabelEventSchema, 'GET /projects/:id/issues/:iid/resource_label_events', get as never));
  }

  /** Every issue matching the filter (all pages), oldest first. */
  async listIssues(filter: IssueFilter): Promise<ApiIssue[]> {
    const all: ApiIssue[] = [];
    for await (const page of this.issuePages(filter)) all.push(...page.issues);
    return all;
  }

  /**
   * Every issue matching the filter, one page of 100 at a time, oldest first unless the filter says
   * otherwise: a caller keeps what it needs of each page and drops the rest (or stops early). `total`
   * is null where GitLab sends none (past 10,000 rows).
   */
  async *issuePages(filter: IssueFilter): AsyncGenerator<{ issues: ApiIssue[]; total: number | null }> {
    const get = (page: number) =>
      this.issues.all({
        projectId: this.project,
        perPage: PER_PAGE,
        page,
        orderBy: 'created_at',
        sort: filter.sort ?? 'asc',
        showExpanded: true,
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.createdAfter ? { createdAfter: filter.createdAfter } : {}),
        ...(filter.createdBefore ? { createdBefore: filter.createdBefore } : {}),
        ...(filter.updatedAfter ? { updatedAfter: filter.updatedAfter } : {}),
        ...(filter.updatedBefore ? { updatedBefore: filter.updatedBefore } : {}),
      } as never);
    for await (const page of pagesOf(apiIssueSchema, 'GET /projects/:id/issues', get as never))
      yield { issues: page.items, total: page.total };
  }

  /** The newest `count` issues, open or closed, carrying every one of `labels` (one call). */
  async newestIssues(labels: string[], count: number): Promise<ApiIssue[]> {
    const found = await this.issues.all({
      projectId: this.project,
      labels: labels.join(','),
      orderBy: 'created_at',
      sort: 'desc',
      perPage: count,
      maxPages: 1,
    } as never);
    return validated(z.array(apiIssueSchema), found, 'GET /projects/:id/issues?labels&order_by=created_at');
  }

  /**
   * A file at `ref` with the commit `ref` points to and the last commit that changed the file
   * (GET /projects/:id/repository/files/:file_path; one call).
   */
  async repositoryFile(
    path: string,
    ref: string,
  ): Promise<{ text: string; blobId: string; commitId: string; lastCommitId: string }> {
    const file = validated(
      apiRepositoryFileSchema,
      await this.files.show(this.project, path, ref),
      'GET /projects/:id/repository/files/:file_path',
    );
    const text = file.encoding === 'base64' ? Buffer.from(file.content, 'base64').toString('utf8') : file.content;
    return { text, blobId: file.blob_id, commitId: file.commit_id, lastCommitId: file.last_commit_id };
  }

  /** The newest `count` commits on `ref` that changed `path`, newest first (GET /projects/:id/repository/commits?path). */
  async fileHistory(path: string, ref: string, count: number): Promise<string[]> {
    const found = await this.commits.all(this.project, { refName: ref, path, perPage: count, maxPages: 1 } as never);
    return validated(z.array(apiCommitSchema), found, 'GET /projects/:id/repository/commits').map((c) => c.id);
  }

  /** Comments on a commit (the first page of 100 is plenty for the bot's one). */
  async commitComments(sha: string): Promise<Array<{ note: string; author: { username: string } }>> {
    const found = await this.commits.allComments(this.project, sha, { perPage: 100, maxPages: 1 } as never);
    return validated(z.array(apiCommitCommentSchema), found, 'GET /projects/:id/repository/commits/:sha/comments');
  }

  async commentOnCommit(sha: string, note: string): Promise<void> {
    validated(
      apiCommitCommentSchema,
      await this.commits.createComment(this.project, sha, note),
      'POST /projects/:id/repository/commits/:sha/comments',
    );
  }

  /** The bot's own issue with this exact title and label (reports, reminders), if there is one. */
  async findOwnIssue(title: string, label: string): Promise<ApiIssue | null> {
    const found = await this.issues.all({
      projectId: this.project,
      labels: label,
      search: title,
      in: 'title',
      perPage: 100,
      maxPages: 5,
    } as never);
    return (
      validated(z.array(apiIssueSchema), found, 'GET /projects/:id/issues?labels&search').find(
        (i) => i.title === title,
      ) ?? null
    );
  }

  async createIssue(title: string, description: string, labels: string[]): Promise<ApiIssue> {
    return validated(
      apiIssueSchema,
      await this.issues.create(this.project, title, { description, labels: labels.join(',') }),
      'POST /projects/:id/issues',
    );
  }

  async editIssueDescription(iid: number, description: string): Promise<ApiIssue> {
    return validated(
      apiIssueSchema,
      await this.issues.edit(this.project, iid, { description }),
      'PUT /projects/:id/issues/:iid',
    );
  }

  /** User ids for usernames, cached: assignments need ids, and people rarely change. */
  async userId(username: string): Promise<number> {
    const key = username.toLowerCase();
    const cached = this.userIds.get(key);
    if (cached !== undefined) return cached;
    const found = validated(z.array(apiUserSchema), await this.users.all({ username } as never), 'GET /users?username');
    const user = found.find((u) => u.username.toLowerCase() === key);
    if (!user) throw new UnknownUserError(username);
    this.userIds.set(key, user.id);
    return user.id;
  }

  async editIssue(
    iid: number,
    change: { addLabels?: string[]; removeLabels?: string[]; assigneeIds?: number[]; stateEvent?: 'close' | 'reopen' },
  ): Promise<ApiIssue> {
    const options: Record<string, unknown> = {};
    if (change.stateEvent) options.stateEvent = change.stateEvent;
    if (change.addLabels && change.addLabels.length > 0) options.addLabels = change.addLabels.join(',');
    if (change.removeLabels && change.removeLabels.length > 0) options.removeLabels = change.removeLabels.join(',');
    if (change.assigneeIds) options.assigneeIds = change.assigneeIds;
    return validated(
      apiIssueSchema,
      await this.issues.edit(this.project, iid, options),
      'PUT /projects/:id/issues/:iid',
    );
  }

  async createNote(iid: number, body: string, internal = false): Promise<ApiNote> {
    const note = await this.notes.create(this.project, iid, body, internal ? ({ internal: true } as never) : undefined);
    return validated(apiNoteSchema, note, 'POST /projects/:id/issues/:iid/notes');
  }

  async editNote(iid: number, noteId: number, body: string): Promise<ApiNote> {
    return validated(
      apiNoteSchema,
      await this.notes.edit(this.project, iid, noteId, { body }),
      'PUT /projects/:id/issues/:iid/notes/:note_id',
    );
  }

  /** Every note on a merge request, oldest first (all pages). */
  async mergeRequestNotes(mrIid: number): Promise<ApiNote[]> {
    const get = (page: number) => this.mrNotes.all(this.project, mrIid, notesPage(page));
    return collect(pagesOf(apiNoteSchema, 'GET /projects/:id/merge_requests/:iid/notes', get as never));
  }

  async createMergeRequestNote(mrIid: number, body: string): Promise<ApiNote> {
    return validated(
      apiNoteSchema,
      await this.mrNotes.create(this.project, mrIid, body),
      'POST /projects/:id/merge_requests/:iid/notes',
    );
  }

  async editMergeRequestNote(mrIid: number, noteId: number, body: string): Promise<ApiNote> {
    return validated(
      apiNoteSchema,
      await this.mrNotes.edit(this.project, mrIid, noteId, { body }),
      'PUT /projects/:id/merge_requests/:iid/notes/:note_id',
    );
  }

  async deleteNote(iid: number, noteId: number): Promise<void> {
    await this.notes.remove(this.project, iid, noteId);
  }

  /** The user's role in the project, inherited memberships included; null when they are no member (404). */
  async memberAccessLevel(userId: number): Promise<number | null> {
    try {
      const member = await this.members.show(this.project, userId, { includeInherited: true });
      return validated(apiMemberSchema, member, 'GET /projects/:id/members/all/:user_id').access_level;
    } catch (err) {
      if (err instanceof GitLabHttpError && err.status === 404) return null;
      throw err;
    }
  }
}

const apiMemberSchema = z.looseObject({ id: z.number().int(), access_level: z.number().int() });

const PER_PAGE = 100;

/** One page of notes, oldest first, with the pagination headers. */
const notesPage = (page: number) =>
  ({ perPage: PER_PAGE, page, sort: 'asc', orderBy: 'created_at', showExpanded: true }) as never;

/** What gitbeaker answers for one page with `showExpanded` (header values it could not read are NaN or null). */
interface ExpandedPage {
  data: unknown;
  paginationInfo: { next: number | null; total: number };
}

/**
 * Walks a list one page at a time, validating each. Follows `X-Next-Page`, which GitLab sends on
 * every page but the last, even past 10,000 rows; a full page without it (a server that sends only
 * `Link`) may have more, so the next one is asked for too, and a short or repeated page ends the walk.
 */
/** One array schema per item schema, made once: zod builds a schema as it is created, and `simulate` reads 10,000 lists of notes. */
const arraySchemas = new WeakMap<z.ZodType, z.ZodType>();
function arrayOf<S extends z.ZodType>(schema: S): z.ZodArray<S> {
  let array = arraySchemas.get(schema);
  if (!array) arraySchemas.set(schema, (array = z.array(schema)));
  return array as z.ZodArray<S>;
}

async function* pagesOf<S extends z.ZodType>(
  schema: S,
  what: string,
  get: (page: number) => Promise<ExpandedPage>,
): AsyncGenerator<{ items: z.infer<S>[]; total: number | null }> {
  let firstId: unknown;
  for (let page: number | null = 1; page !== null;) {
    const answer = await get(page);
    const items = validated(arrayOf(schema), answer.data, what);
    const id = (items[0] as { id?: unknown } | undefined)?.id;
    if (page > 1 && answer.paginationInfo.next === null && id !== undefined && id === firstId) return;
    firstId = id;
    const next: number | null = answer.paginationInfo.next ?? (items.length === PER_PAGE ? page + 1 : null);
    // A next page that does not move forward would loop for ever: stop instead.
    page = items.length > 0 && next !== null && next > page ? next : null;
    yield { items, total: Number.isFinite(answer.paginationInfo.total) ? answer.paginationInfo.total : null };
  }
}

async function collect<T>(pages: AsyncGenerator<{ items: T[] }>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page.items);
  return all;
}
