/**
 * Every error the GitLab adapter throws, and the two questions callers ask of any error: will asking
 * again help (`isTransient`), and is it hopeless (`isPermanent`).
 */

/** GitLab answered with a status outside 2xx. */
export class GitLabHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly method: string,
    readonly endpoint: string,
    readonly retryAfterMs: number | null,
    readonly body: string,
  ) {
    super(message);
    this.name = 'GitLabHttpError';
  }
}

/** The request may or may not have reached GitLab (timeout, 5xx on a POST): not safe to repeat blindly. */
export class AmbiguousWriteError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'AmbiguousWriteError';
  }
}

/** GitLab answered 2xx with a body the bot cannot read. */
export class UnexpectedResponseError extends Error {
  constructor(what: string, problems: string) {
    super(`GitLab answered ${what} with an unexpected shape: ${problems}`);
    this.name = 'UnexpectedResponseError';
  }
}

/** A configured username GitLab does not know. */
export class UnknownUserError extends Error {
  constructor(readonly username: string) {
    super(`GitLab has no user "${username}" (check people in the configuration)`);
    this.name = 'UnknownUserError';
  }
}

/**
 * GitLab answered an assignment without the assignee: it assigns only users who can read the
 * project's issues and silently drops the others (`filter_assignees_using_checks`,
 * app/services/issuable_base_service.rb), typically someone who is no member of the project.
 */
export class AssigneeRefusedError extends Error {
  constructor(readonly usernames: string[]) {
    super(
      `GitLab did not assign ${usernames.join(', ')}: GitLab assigns only users who can see the project's issues ` +
        '(add them to the project, or take them out of the configuration), then retry',
    );
    this.name = 'AssigneeRefusedError';
  }
}

const NETWORK_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);

/** A failure that may pass if asked again: rate limit, server error, network, timeout, unknown write outcome. */
export function isTransient(err: unknown): boolean {
  if (err instanceof AmbiguousWriteError) return true;
  if (err instanceof GitLabHttpError) return err.status === 429 || err.status >= 500;
  if (NETWORK_ERRORS.has((err as NodeJS.ErrnoException | null)?.code ?? '')) return true;
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** A GitLab failure no retry can fix: an answer the bot cannot read, an unknown or unassignable user, a 4xx other than 429. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof UnexpectedResponseError ||
    err instanceof UnknownUserError ||
    err instanceof AssigneeRefusedError ||
    (err instanceof GitLabHttpError && !isTransient(err))
  );
}
