import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { exampleConfig } from '../helpers/config.js';
import { projectLabels } from '../e2e/stack.js';
import { REPO_ROOT } from './run-cli.js';

const sample = (name: string) => readFileSync(join(REPO_ROOT, 'samples', 'requests', name), 'utf8');
const dirs: string[] = [];
let fake: FakeGitLab | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * The scheduled jobs through the real executable, in a process of their own: in a CLI job nothing
 * but the job itself keeps Node alive while it waits out a `Retry-After`.
 */
async function runBin(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/scale-bot.js', ...args], {
      cwd: REPO_ROOT,
      env,
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function project(): Promise<{ fake: FakeGitLab; env: NodeJS.ProcessEnv }> {
  fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
  await fake.as('alex.ae').createIssue({ title: 'Northwind', description: sample('mm-amr-valid.md') });
  const data = mkdtempSync(join(tmpdir(), 'rate-limited-'));
  dirs.push(data);
  const env = {
    PATH: process.env.PATH,
    GITLAB_URL: fake.url,
    GITLAB_TOKEN: fake.botToken,
    GITLAB_PROJECT: fake.project.path_with_namespace,
    SCALE_BOT_DATA: data,
    LOG_LEVEL: 'silent',
  };
  return { fake, env };
}

describe('scheduled jobs under GitLab rate limits and lost answers', () => {
  it.each([
    ['report', ['report', '--period', 'week'], /request\(s\) opened/],
    ['remind', ['remind', '--dry-run'], /person\(s\) would remind/],
    ['reconcile', ['reconcile', '--settle', '0'], /1 issue\(s\) checked, 1 changed, 0 failed/],
  ])('%s waits out a 429 with Retry-After, finishes and exits 0', { timeout: 60_000 }, async (_name, args, done) => {
    const { fake: f, env } = await project();
    f.failNext({ method: 'GET', path: /\/issues$/ }, { status: 429, retryAfter: 1 });
    const r = await runBin(args, env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(done);
    expect(f.calls.filter((c) => c.status === 429)).toHaveLength(1);
  });

  it(
    'reconcile looks again when a note POST landed but its answer was lost: the issue is right, exit 0, one note',
    { timeout: 60_000 },
    async () => {
      const { fake: f, env } = await project();
      f.failNext({ method: 'POST', path: /\/notes$/ }, { lost: true });
      const r = await runBin(['reconcile', '--settle', '0'], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^#1 applied: mm_amr v2: assigned/m);
      expect(r.stdout).toContain('1 issue(s) checked, 1 changed, 0 failed');
      expect(f.botNotes(1)).toHaveLength(1);
      const again = await runBin(['reconcile', '--settle', '0'], env);
      expect(again.stdout).toContain('1 issue(s) checked, 0 changed, 0 failed');
    },
  );
});
