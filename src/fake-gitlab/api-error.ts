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

  static notFound(what?: 'Project'): ApiError {
    // GitLab: `not_found!('Project')` for projects; issues and notes come from a RecordNotFound rescue.
    return new ApiError(404, { message: what === 'Project' ? '404 Project Not Found' : '404 Not found' });
  }

  static badRequest(error: string): ApiError {
    return new ApiError(400, { error });
  }

  static forbidden(): ApiError {
    return new ApiError(403, { message: '403 Forbidden' });
  }
}
