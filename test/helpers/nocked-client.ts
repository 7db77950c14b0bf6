import pino from 'pino';
import { GitLabClient } from '../../src/gitlab/client.js';
import { createRequester } from '../../src/gitlab/requester.js';
import { createMetrics } from '../../src/metrics/metrics.js';

/** The GitLab the nocked tests answer for. */
export const NOCKED_GITLAB = 'https://gitlab.example.com';

/**
 * A client of project 4 on `NOCKED_GITLAB` whose requester never waits: pacing far above what a
 * test sends, no retries, 1 ms backoff, so each mocked answer is seen exactly as given.
 */
export function nockedClient(): GitLabClient {
  const requester = createRequester(
    {
      requestsPerMinute: 60_000,
      notesPerMinute: 60_000,
      searchesPerMinute: 60_000,
      retries: 0,
      timeoutMs: 2000,
      minBackoffMs: 1,
      maxBackoffMs: 1,
    },
    pino({ level: 'silent' }),
    createMetrics(),
  );
  return new GitLabClient({ url: NOCKED_GITLAB, token: 'glpat-test', project: 4 }, requester);
}
