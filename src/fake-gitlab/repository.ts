import { createHash } from 'node:crypto';
import { ApiError } from './api-error.js';

/**
 * The request project's Git repository, as far as the bot reads it: a default branch (`main`) and
 * merge-request branches of commits, each a full snapshot of the files, the files API, and
 * comments on commits. Every push is one commit on a branch (a merged merge request is one on
 * `main`) and fires a Push Hook.
 */

export interface CommitRecord {
  sha: string;
  parentSha: string | null;
  title: string;
  message: string;
  authorName: string;
  authorEmail: string;
  createdAt: Date;
  files: ReadonlyMap<string, string>;
}

export interface CommitCommentRecord {
  note: string;
  path: string | null;
  line: number | null;
  lineType: 'new' | 'old' | null;
  authorId: number;
  createdAt: Date;
}

export const DEFAULT_BRANCH = 'main';

/** Git's object id of a blob: SHA-1 of `blob <size>\0<content>`. */
export function gitBlobId(content: string): string {
  const bytes = Buffer.from(content, 'utf8');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export class FakeRepository {
  private readonly commits: CommitRecord[] = [];
  /** Each branch's head commit; a branch starts from the head of `main`. */
  private readonly branches = new Map<string, CommitRecord>();
  private readonly comments = new Map<string, CommitCommentRecord[]>();

  constructor(private readonly now: () => Date) {}

  /** The head of the default branch, or null for an empty repository. */
  head(branch = DEFAULT_BRANCH): CommitRecord | null {
    return this.branches.get(branch) ?? null;
  }

  /** Adds a commit on a branch (default `main`): `files` maps paths to new content, or null to delete. */
  commit(
    files: Record<string, string | null>,
    message: string,
    author: { name: string; email: string },
    branch = DEFAULT_BRANCH,
  ): CommitRecord {
    const parent = this.head(branch) ?? this.head();
    const snapshot = new Map(parent?.files ?? []);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) snapshot.delete(path);
      else snapshot.set(path, content);
    }
    const createdAt = this.now();
    const sha = createHash('sha1')
      .update(
        `${parent?.sha ?? ''}\n${message}\n${createdAt.toISOString()}\n${[...snapshot].map(([p, c]) => `${p}:${gitBlobId(c)}`).join('\n')}`,
      )
      .digest('hex');
    const record: CommitRecord = {
      sha,
      parentSha: parent?.sha ?? null,
      title: message.split('\n')[0]!,
      message,
      authorName: author.name,
      authorEmail: author.email,
      createdAt,
      files: snapshot,
    };
    this.commits.push(record);
    this.branches.set(branch, record);
    return record;
  }

  /**
   * A branch name, a full SHA or an unambiguous prefix of at least 7 characters, as
   * `Repository#commit` resolves a ref (`app/models/repository.rb`); null when none matches.
   */
  resolve(ref: string): CommitRecord | null {
    const branch = this.branches.get(ref.replace(/^refs\/heads\//, ''));
    if (branch) return branch;
    if (!/^[0-9a-f]{7,40}$/i.test(ref)) return null;
    const found = this.commits.filter((c) => c.sha.startsWith(ref.toLowerCase()));
    return found.length === 1 ? found[0]! : null;
  }

  /** `lib/api/files.rb`: 404 "Commit Not Found" for an unknown ref, "File Not Found" for a path the commit lacks. */
  file(ref: string, path: string): { commit: CommitRecord; content: string; blobId: string; lastCommitId: string } {
    const commit = this.resolve(ref);
    if (!commit) throw ApiError.notFound('Commit');
    const content = commit.files.get(path);
    if (content === undefined) throw ApiError.notFound('File');
    return { commit, content, blobId: gitBlobId(content), lastCommitId: this.lastCommitFor(commit, path) };
  }

  /** The newest commit up to `commit` that changed `path` (`Repository#last_commit_id_for_path`). */
  private lastCommitFor(commit: CommitRecord, path: string): string {
    let last = commit;
    for (
      let parent = this.parentOf(last);
      parent && parent.files.get(path) === last.files.get(path);
      parent = this.parentOf(parent)
    )
      last = parent;
    return last.sha;
  }

  private parentOf(commit: CommitRecord): CommitRecord | null {
    return commit.parentSha === null ? null : this.commits.find((c) => c.sha === commit.parentSha)!;
  }

  /** Commits reachable from `ref`, newest first; with `path`, only those that changed it (`git log -- path`). */
  history(ref: string, path: string | undefined): CommitRecord[] {
    const tip = this.resolve(ref);
    if (!tip) throw ApiError.notFound('Commit');
    const reachable: CommitRecord[] = [];
    for (let c: CommitRecord | null = tip; c; c = this.parentOf(c)) reachable.push(c);
    return reachable.filter((c) => path === undefined || this.parentOf(c)?.files.get(path) !== c.files.get(path));
  }

  addComment(sha: string, comment: Omit<CommitCommentRecord, 'createdAt'>): CommitCommentRecord {
    const commit = this.resolve(sha);
    if (!commit) throw ApiError.notFound('Commit');
    const record = { ...comment, createdAt: this.now() };
    this.comments.set(commit.sha, [...(this.comments.get(commit.sha) ?? []), record]);
    return record;
  }

  commentsOn(sha: string): CommitCommentRecord[] {
    const commit = this.resolve(sha);
    if (!commit) throw ApiError.notFound('Commit');
    return this.comments.get(commit.sha) ?? [];
  }
}
