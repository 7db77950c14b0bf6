import type { Logger } from 'pino';
import { configProblemsComment, isConfigComment } from '../domain/config-comment.js';
import type { Config } from '../domain/config.js';
import type { GitLabClient } from '../gitlab/client.js';
import { ConfigError, DEFAULT_CONFIG_PATH, describeProblem, parseConfigText } from './load-config.js';

interface Loaded {
  config: Config;
  blobId: string | null;
  commit: string | null;
}

/**
 * The configuration the service runs on. Read the way Probot apps read theirs: from the request
 * project's repository, `.gitlab/scale-bot.yml` on the default branch (one files-API call answers
 * the content, the blob and the commits), kept by blob and read again when the default branch
 * moves (a Push Hook) or on a periodic check. A version that fails validation is never loaded:
 * the last good one stays, `status()` and the logs say so, and the commit that broke it gets one
 * comment listing every problem. A local file (`SCALE_BOT_CONFIG`, `--config`) is fixed instead.
 */
export class ConfigSource {
  private loaded: Loaded;
  private refused: { blobId: string; commit: string; problems: number } | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  private constructor(
    loaded: Loaded,
    private readonly repository: { client: GitLabClient; path: string; logger: Logger } | null,
  ) {
    this.loaded = loaded;
  }

  static fixed(config: Config): ConfigSource {
    return new ConfigSource({ config, blobId: null, commit: null }, null);
  }

  /**
   * Reads the project's configuration. When the default branch's version is invalid, the newest
   * valid one in the file's history is used instead (and the broken one commented on once): a
   * restart while the file is broken keeps the last good configuration too. Throws (ConfigError,
   * or GitLab's error) when no version to start on can be found.
   */
  static async fromRepository(client: GitLabClient, logger: Logger, path = DEFAULT_CONFIG_PATH): Promise<ConfigSource> {
    const repo = { client, path, logger };
    const { file, branch } = await readFile(client, path);
    try {
      const config = parseConfigText(file.text, `${path} on ${branch} (commit ${file.commitId.slice(0, 8)})`);
      logger.info({ path, branch, commit: file.commitId, blob: file.blobId }, 'configuration read from the project');
      return new ConfigSource({ config, blobId: file.blobId, commit: file.commitId }, repo);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const lastGood = await newestValid(client, path, branch, file.lastCommitId);
      if (!lastGood) throw err;
      const source = new ConfigSource(lastGood, repo);
      await source.refuse(repo, file, err);
      return source;
    }
  }

  get config(): Config {
    return this.loaded.config;
  }

  /** For /readyz: where the configuration comes from, and any newer version that was refused. */
  status(): string {
    if (!this.repository) return 'ok (local file)';
    const running = `ok (${this.repository.path} at commit ${this.loaded.commit?.slice(0, 8)})`;
    if (!this.refused) return running;
    return `${running}; the version of commit ${this.refused.commit.slice(0, 8)} is invalid (${this.refused.problems} problem(s), commented on that commit) and is not used`;
  }

  /** Reads the file again (coalesced: a refresh asked for while one runs runs once more after it). */
  async refresh(): Promise<void> {
    if (!this.repository) return;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.readAgain(this.repository!);
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async readAgain(repo: NonNullable<ConfigSource['repository']>): Promise<void> {
    const { file, branch } = await readFile(repo.client, repo.path);
    if (file.blobId === this.loaded.blobId || file.blobId === this.refused?.blobId) return;
    try {
      const config = parseConfigText(file.text, `${repo.path} on ${branch} (commit ${file.commitId.slice(0, 8)})`);
      repo.logger.info(
        { path: repo.path, commit: file.commitId, previous: this.loaded.commit },
        'configuration changed; now in use',
      );
      this.loaded = { config, blobId: file.blobId, commit: file.commitId };
      this.refused = null;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      await this.refuse(repo, file, err);
    }
  }

  private async refuse(
    repo: NonNullable<ConfigSource['repository']>,
    file: RepositoryFile,
    err: ConfigError,
  ): Promise<void> {
    repo.logger.error(
      {
        path: repo.path,
        commit: file.lastCommitId,
        problems: err.problems.map(describeProblem),
        runningOn: this.loaded.commit,
      },
      'configuration invalid; keeping the last good one',
    );
    await this.commentOnce(repo, file.lastCommitId, file.blobId, err);
    this.refused = { blobId: file.blobId, commit: file.lastCommitId, problems: err.problems.length };
  }

  /** One comment per refused version: the marker names its blob, so a restart or a second replica does not repeat it. */
  private async commentOnce(
    repo: NonNullable<ConfigSource['repository']>,
    sha: string,
    blobId: string,
    err: ConfigError,
  ): Promise<void> {
    const comments = await repo.client.commitComments(sha);
    if (comments.some((c) => isConfigComment(c.note, blobId))) return;
    await repo.client.commentOnCommit(
      sha,
      configProblemsComment({ file: repo.path, blobId, problems: err.problems, runningOn: this.loaded.commit }),
    );
  }
}

type RepositoryFile = Awaited<ReturnType<GitLabClient['repositoryFile']>>;

/** How far back the file's history is searched for a valid version at start. */
const HISTORY_DEPTH = 20;

/** The newest version of the file before `brokenAt` that validates, from the commits that changed it. */
async function newestValid(
  client: GitLabClient,
  path: string,
  branch: string,
  brokenAt: string,
): Promise<Loaded | null> {
  for (const sha of await client.fileHistory(path, branch, HISTORY_DEPTH)) {
    if (sha === brokenAt) continue;
    let older: RepositoryFile;
    try {
      older = await client.repositoryFile(path, sha);
    } catch (err) {
      // Deleted in that commit: older versions may still be there.
      if ((err as { status?: number }).status === 404) continue;
      throw err;
    }
    try {
      return {
        config: parseConfigText(older.text, `${path} at ${sha.slice(0, 8)}`),
        blobId: older.blobId,
        commit: sha,
      };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
  }
  return null;
}

async function readFile(client: GitLabClient, path: string) {
  const project = await client.getProject();
  const branch = project.default_branch;
  if (!branch)
    throw new ConfigError(path, [{ path: '(file)', message: 'the project repository is empty (no default branch)' }]);
  try {
    return { file: await client.repositoryFile(path, branch), branch };
  } catch (err) {
    if ((err as { status?: number }).status === 404)
      throw new ConfigError(path, [{ path: '(file)', message: `not found on the default branch ${branch}` }]);
    throw err;
  }
}
