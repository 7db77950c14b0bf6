import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/demo/demo.js';
import type { Config } from '../../src/domain/config.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import type { ServiceSettings } from '../../src/service/settings.js';
import { startStack, type Stack } from '../e2e/stack.js';
import { exampleConfig } from '../helpers/config.js';

export const STATUS_APP = { id: 'status-app-id', secret: 'status-app-secret' };

/** The e2e stack with the status page on, registered with the fake GitLab as an OAuth application; `settings` adds to the stack's. */
export async function startStatusStack(
  config: Config,
  settings: Partial<ServiceSettings> = {},
): Promise<Stack & { pageUrl: string }> {
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
      ...settings,
    },
  });
  stack.fake.addOAuthApplication(`${pageUrl}/auth/callback`, ['read_user'], STATUS_APP);
  return { ...stack, pageUrl };
}

/** Files a valid request as alex.ae and waits for its pass; returns its iid. */
export async function fileRequest(s: Stack): Promise<number> {
  const config = exampleConfig();
  const sample = readFileSync(join(PACKAGE_ROOT, 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
  const description = `${sample.trimEnd()}\n\n/label ~"${config.catalog.segmentLabel('mm')}" ~"${config.catalog.regionLabel('amr')}"\n`;
  const issue = await s.fake.as('alex.ae').createIssue({ title: 'Scale engagement request: Northwind', description });
  await s.drain();
  return issue.iid;
}

/** A job that failed for good: a pass that GitLab forbids (403 is not retried). Returns the job's id. */
export async function deadLetter(s: Stack, iid: number): Promise<number> {
  s.fake.failNext({ method: 'GET', path: new RegExp(`/issues/${iid}$`) }, { status: 403 });
  await s.fake.as('alex.ae').comment(iid, 'any news?');
  await s.drain();
  const failed = await s.service.inbox.list({ failed: true });
  if (failed.length !== 1) throw new Error(`expected one dead letter, found ${failed.length}`);
  return failed[0]!.id;
}
