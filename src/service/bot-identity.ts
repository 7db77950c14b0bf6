import type { Logger } from 'pino';
import type { GitLabClient } from '../gitlab/client.js';
import { GitLabHttpError } from '../gitlab/errors.js';

/**
 * Who the bot is and which project it serves, as GitLab says. Until GitLab has answered, the
 * configured bot username and the project as set (`GITLAB_PROJECT`, an id or a path) stand in:
 * the bot's own events are still recognised, and readiness says GitLab is not known yet.
 */
export class BotIdentity {
  username: string;
  userId: number | null = null;
  projectId: number | null;
  projectPath: string | null;
  /** GitLab has answered once: the fields above are its word, not the settings'. */
  known = false;

  constructor(
    private readonly client: GitLabClient,
    private readonly project: number | string,
    private readonly configuredUsername: () => string,
    private readonly logger: Logger,
  ) {
    this.username = configuredUsername();
    this.projectId = typeof project === 'number' ? project : null;
    this.projectPath = typeof project === 'string' ? project : null;
  }

  /** Asks GitLab for the token's user and the project; throws what GitLab answered. */
  async learn(): Promise<void> {
    const [user, project] = await Promise.all([this.client.currentUser(), this.client.getProject()]);
    this.username = user.username;
    this.userId = user.id;
    this.projectId = project.id;
    this.projectPath = project.path_with_namespace;
    this.known = true;
    const configured = this.configuredUsername();
    if (user.username.toLowerCase() !== configured.toLowerCase()) {
      this.logger.warn(
        { tokenUser: user.username, configured },
        'the token belongs to another user than bot.username; using the token user',
      );
    }
  }

  /** Why GitLab could not be asked: a refused token or an unknown project is not an outage, and says what to fix. */
  unreachable(err: unknown): string {
    if (err instanceof GitLabHttpError && (err.status === 401 || err.status === 403))
      return `GitLab refused the token (${err.status}): check GITLAB_TOKEN`;
    if (err instanceof GitLabHttpError && err.status === 404 && err.endpoint === 'projects/:id') {
      return `GitLab has no project ${JSON.stringify(this.project)} that the token can see (404): check GITLAB_PROJECT`;
    }
    return `unreachable: ${(err as Error).message}`;
  }
}
