import type { Logger } from 'pino';
import { GitLabClient } from '../gitlab/client.js';
import { createRequester, type RequesterSettings } from '../gitlab/requester.js';

/** What a job needs of the settings to reach GitLab (the service's settings hold it). */
export interface GitLabAccess {
  gitlabUrl: string;
  gitlabToken: string;
  project: string | number;
  requester: RequesterSettings;
}

export interface GitLabSession {
  client: GitLabClient;
  /** The token's user: the bot's own notes are found by it. */
  botUsername: string;
  stop: () => Promise<void>;
}

/**
 * A GitLab connection for the scheduled jobs: the service's requester (pacing, retries, Retry-After)
 * without its local store, so a job runs the same from a fresh CI container.
 */
export async function openGitLab(settings: GitLabAccess, logger: Logger): Promise<GitLabSession> {
  const requester = createRequester(settings.requester, logger.child({ component: 'gitlab' }), null);
  const client = new GitLabClient(
    { url: settings.gitlabUrl, token: settings.gitlabToken, project: settings.project },
    requester,
  );
  try {
    const user = await client.currentUser();
    return { client, botUsername: user.username, stop: () => requester.stop() };
  } catch (err) {
    await requester.stop();
    throw err;
  }
}
