import { freePort } from '../../src/demo/demo.js';
import type { Config } from '../../src/domain/config.js';
import { startStack, type Stack } from '../e2e/stack.js';

export const STATUS_APP = { id: 'status-app-id', secret: 'status-app-secret' };

/** The e2e stack with the status page on, registered with the fake GitLab as an OAuth application. */
export async function startStatusStack(config: Config): Promise<Stack & { pageUrl: string }> {
  const port = await freePort();
  const pageUrl = `http://localhost:${port}`;
  const stack = await startStack(config, {
    settings: {
      host: 'localhost',
      port,
      status: {
        appId: STATUS_APP.id,
        appSecret: STATUS_APP.secret,
        publicUrl: pageUrl,
        sessionSecret: 'status-session-secret-for-tests-0123456789',
      },
    },
  });
  stack.fake.addOAuthApplication(`${pageUrl}/auth/callback`, ['read_user'], STATUS_APP);
  return { ...stack, pageUrl };
}
