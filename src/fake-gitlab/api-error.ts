/** An error the fake answers with, shaped like GitLab's (`{"message": …}` or `{"error": …}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${JSON.stringify(body)}`);
    this.name = 'ApiError';
  }

  static notFound(what?: 'Project' | 'Commit' | 'File' | 'Branch'): ApiError {
    // GitLab: `not_found!('Project')` (and 'Commit', 'File', 'Branch' in lib/api/files.rb,
    // branches.rb, commits.rb); issues and notes come from a RecordNotFound rescue.
    return new ApiError(404, { message: what ? `404 ${what} Not Found` : '404 Not found' });
  }

  static badRequest(error: string): ApiError {
    return new ApiError(400, { error });
  }

  static forbidden(): ApiError {
    return new ApiError(403, { message: '403 Forbidden' });
  }
}
