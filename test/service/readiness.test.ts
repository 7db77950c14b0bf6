import { describe, expect, it } from 'vitest';
import type { FakeGitLab } from '../../src/fake-gitlab/server.js';
import { settingsFor } from '../e2e/stack.js';
import { useServerOnlyService } from '../helpers/server-only-service.js';

const service = useServerOnlyService('scale-bot-ready-');

async function start(
  token: (fake: FakeGitLab) => string,
  project?: string,
): Promise<{ status: number; body: { ok: boolean; checks: Record<string, string> } }> {
  const running = await service.start((fake, dataDir) =>
    settingsFor(fake, dataDir, { gitlabToken: token(fake), ...(project ? { project } : {}) }),
  );
  const res = await fetch(`${running.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; checks: Record<string, string> } };
}

describe('GET /readyz', () => {
  it('is ready when the store works, GitLab answers and the bot user is known', async () => {
    const { status, body } = await start((f) => f.botToken);
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      checks: {
        store: 'ok',
        deliveries: 'ok',
        gitlab: expect.stringMatching(/^ok \(bot user scale-bot, project /),
        config: 'ok (local file)',
      },
    });
  });

  it('says the token was refused, not that GitLab is unreachable, when GitLab answers 401', async () => {
    const { status, body } = await start(() => 'not-the-token');
    expect(status).toBe(503);
    expect(body).toEqual({
      ok: false,
      checks: {
        store: 'ok',
        deliveries: 'ok',
        gitlab: 'GitLab refused the token (401): check GITLAB_TOKEN',
        config: 'ok (local file)',
      },
    });
  });

  it('names GITLAB_PROJECT when GitLab has no such project', async () => {
    const { status, body } = await start((f) => f.botToken, 'sales/no-such-project');
    expect(status).toBe(503);
    expect(body).toEqual({
      ok: false,
      checks: {
        store: 'ok',
        deliveries: 'ok',
        gitlab: 'GitLab has no project "sales/no-such-project" that the token can see (404): check GITLAB_PROJECT',
        config: 'ok (local file)',
      },
    });
  });
});
