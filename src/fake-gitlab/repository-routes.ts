import type { Request, Response, Router } from 'express';
import { ApiError } from './api-error.js';
import { restUser, type EntityContext } from './entities.js';
import { paginate } from './pagination.js';
import { DEFAULT_BRANCH, type CommitCommentRecord, type CommitRecord, type FakeRepository } from './repository.js';
import type { UserRecord } from './state.js';

/**
 * The repository endpoints the bot reads its configuration through, modelled on GitLab's
 * `lib/api/files.rb` (doc/api/repository_files.md), `lib/api/branches.rb` (doc/api/branches.md)
 * and `lib/api/commits.rb` with `Entities::CommitNote` (doc/api/commits.md: "List repository commits",
 * "Post comment to commit").
 */

export interface RepositoryBackend {
  readonly repository: FakeRepository;
  entities(): EntityContext;
}

function restCommit(commit: CommitRecord, ctx: EntityContext) {
  return {
    id: commit.sha,
    short_id: commit.sha.slice(0, 8),
    created_at: commit.createdAt.toISOString(),
    parent_ids: commit.parentSha ? [commit.parentSha] : [],
    title: commit.title,
    message: commit.message,
    author_name: commit.authorName,
    author_email: commit.authorEmail,
    authored_date: commit.createdAt.toISOString(),
    committer_name: commit.authorName,
    committer_email: commit.authorEmail,
    committed_date: commit.createdAt.toISOString(),
    trailers: {},
    extended_trailers: {},
    web_url: `${ctx.baseUrl}/${ctx.project.path}/-/commit/${commit.sha}`,
  };
}

function restCommitNote(comment: CommitCommentRecord, ctx: EntityContext) {
  return {
    note: comment.note,
    path: comment.path,
    line: comment.line,
    line_type: comment.lineType,
    author: restUser(ctx.state.user(comment.authorId), ctx),
    created_at: comment.createdAt.toISOString(),
  };
}

/** `API::Helpers::HeadersHelpers#set_http_headers`: each blob attribute as an `X-Gitlab-*` header. */
function setBlobHeaders(res: Response, data: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(data)) res.set(`X-Gitlab-${key.replace(/_/g, '-')}`, String(value));
}

/** A path parameter (Express types allow arrays for wildcards; these routes have none). */
function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

/** `Entities::Blob`-like attributes of `:file_path` at `ref`, and its text. */
function blobData(repo: FakeRepository, req: Request, ref: string) {
  const path = param(req, 'file_path');
  const { commit, content, blobId, lastCommitId } = repo.file(ref, path);
  const data = {
    file_name: path.slice(path.lastIndexOf('/') + 1),
    file_path: path,
    size: Buffer.byteLength(content, 'utf8'),
    encoding: 'base64',
    ref,
    blob_id: blobId,
    commit_id: commit.sha,
    last_commit_id: lastCommitId,
    execute_filemode: false,
  };
  return { data, content };
}

function restBranch(head: CommitRecord, ctx: EntityContext) {
  return {
    name: DEFAULT_BRANCH,
    commit: restCommit(head, ctx),
    merged: false,
    protected: true,
    default: true,
    developers_can_push: false,
    developers_can_merge: false,
    can_push: false,
    web_url: `${ctx.baseUrl}/${ctx.project.path}/-/tree/${DEFAULT_BRANCH}`,
  };
}

export function repositoryRoutes(
  router: Router,
  backend: RepositoryBackend,
  checkProject: (req: Request) => void,
  actor: (res: Response) => UserRecord,
): void {
  fileRoutes(router, backend, checkProject);
  commitRoutes(router, backend, checkProject, actor);
}

/** Files (raw and JSON) and the default branch. */
function fileRoutes(router: Router, backend: RepositoryBackend, checkProject: (req: Request) => void): void {
  const repo = backend.repository;
  // `ref` is optional for the raw file (the default branch), required for the JSON one.
  router.get('/projects/:id/repository/files/:file_path/raw', (req, res) => {
    checkProject(req);
    const ref = typeof req.query.ref === 'string' ? req.query.ref : DEFAULT_BRANCH;
    const { data, content } = blobData(repo, req, ref);
    setBlobHeaders(res, data);
    res.type('text/plain').send(content);
  });

  router.get('/projects/:id/repository/files/:file_path', (req, res) => {
    checkProject(req);
    const ref = req.query.ref;
    if (typeof ref !== 'string' || ref === '') throw ApiError.badRequest('ref is missing');
    const { data, content } = blobData(repo, req, ref);
    setBlobHeaders(res, data);
    res.json({ ...data, content_sha256: '', content: Buffer.from(content, 'utf8').toString('base64') });
  });

  router.get('/projects/:id/repository/branches/:branch', (req, res) => {
    checkProject(req);
    const head = repo.head();
    if (param(req, 'branch') !== DEFAULT_BRANCH || !head) throw ApiError.notFound('Branch');
    res.json(restBranch(head, backend.entities()));
  });
}

/** Commits and the comments on them. */
function commitRoutes(
  router: Router,
  backend: RepositoryBackend,
  checkProject: (req: Request) => void,
  actor: (res: Response) => UserRecord,
): void {
  const repo = backend.repository;
  const ctx = () => backend.entities();
  // "List repository commits": `ref_name` (default branch by default) and `path` (only commits that changed it).
  router.get('/projects/:id/repository/commits', (req, res) => {
    checkProject(req);
    const ref = typeof req.query.ref_name === 'string' ? req.query.ref_name : DEFAULT_BRANCH;
    const path = typeof req.query.path === 'string' ? req.query.path : undefined;
    res.json(paginate(repo.history(ref, path), req, res, ctx().baseUrl).map((c) => restCommit(c, ctx())));
  });

  router.get('/projects/:id/repository/commits/:sha/comments', (req, res) => {
    checkProject(req);
    res.json(
      paginate(repo.commentsOn(param(req, 'sha')), req, res, ctx().baseUrl).map((c) => restCommitNote(c, ctx())),
    );
  });

  router.post('/projects/:id/repository/commits/:sha/comments', (req, res) => {
    checkProject(req);
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const note = body.note;
    if (typeof note !== 'string' || note === '') throw ApiError.badRequest('note is missing');
    const line = body.line === undefined ? null : Number(body.line);
    const lineType = body.line_type === 'old' ? 'old' : body.line_type === undefined ? null : 'new';
    const comment = repo.addComment(param(req, 'sha'), {
      note,
      path: typeof body.path === 'string' ? body.path : null,
      line,
      lineType,
      authorId: actor(res).id,
    });
    res.status(201).json(restCommitNote(comment, ctx()));
  });
}
