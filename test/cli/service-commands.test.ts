import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import type { Job } from '../../src/queue/inbox.js';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { acquireInstanceLock } from '../../src/service/instance-lock.js';
import { projectLabels } from '../e2e/stack.js';
import { EXAMPLE_CONFIG_PATH, exampleConfig } from '../helpers/config.js';
import { REPO_ROOT, runCli } from './run-cli.js';

const TOKEN = 'glpat-SECRET123';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scale-bot-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('scale-bot serve / worker: settings checked before anything starts', () => {
  it('serve with no environment exits 2 with one message naming each missing setting', async () => {
    const r = await runCli(['serve'], { env: {} });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.match(/Cannot start/g)).toHaveLength(1);
    expect(r.stderr).toContain('4 setting(s) missing or invalid');
    for (const name of ['GITLAB_URL', 'GITLAB_TOKEN', 'GITLAB_WEBHOOK_SECRET', 'GITLAB_PROJECT'])
      expect(r.stderr).toContain(`  - ${name} `);
  });

  it('serve with invalid values names every problem, never the token', async () => {
    const r = await runCli(['serve'], {
      env: {
        GITLAB_URL: 'not a url',
        GITLAB_TOKEN: TOKEN,
        GITLAB_WEBHOOK_SECRET: 'hook-secret',
        GITLAB_PROJECT: 'no-slash',
        PORT: '99999',
        DRY_RUN: 'maybe',
        WORKER_CONCURRENCY: '0',
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('5 setting(s) missing or invalid');
    expect(r.stderr).toContain('GITLAB_URL must be the GitLab base URL');
    expect(r.stderr).toContain('GITLAB_PROJECT must be a numeric id or a path like group/project');
    expect(r.stderr).toContain('PORT must be a port number (0-65535), not "99999"');
    expect(r.stderr).toContain('DRY_RUN use 1/0, true/false, yes/no or on/off');
    expect(r.stderr).toContain('WORKER_CONCURRENCY must be a positive whole number, not "0"');
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
    expect(`${r.stdout}${r.stderr}`).not.toContain('hook-secret');
  });

  it('a broken configuration file is reported in the same message as the missing settings', async () => {
    writeFileSync(join(dir, 'broken.yml'), 'bot:\n  username: [unclosed\n');
    const r = await runCli(['serve'], { cwd: dir, env: { GITLAB_TOKEN: TOKEN, SCALE_BOT_CONFIG: 'broken.yml' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('3 setting(s) missing or invalid');
    expect(r.stderr).toMatch(/Configuration .*broken\.yml is invalid:\n {2}- .*not valid YAML/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
  });

  it('worker does not need the webhook secret, but still checks the rest', async () => {
    const r = await runCli(['worker'], { env: { GITLAB_URL: 'https://gitlab.example.com', GITLAB_TOKEN: TOKEN } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('1 setting(s) missing or invalid');
    expect(r.stderr).toContain('GITLAB_PROJECT is required');
    expect(r.stderr).not.toContain('GITLAB_WEBHOOK_SECRET');
  });
});

describe('scale-bot serve / worker: one process per role per data directory', () => {
  let fake: FakeGitLab | null = null;
  afterEach(async () => {
    await fake?.stop();
    fake = null;
  });

  it.each([
    ['serve', 'server', 'another scale-bot webhook server (serve) is already running'],
    ['worker', 'worker', 'another scale-bot worker (serve or worker) is already running'],
  ] as const)(
    '%s refuses to start, exit 2, when another process holds the data directory',
    async (command, role, message) => {
      fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
      const held = acquireInstanceLock(dir, role);
      try {
        const env = {
          GITLAB_URL: fake.url,
          GITLAB_TOKEN: fake.botToken,
          GITLAB_PROJECT: fake.project.path_with_namespace,
          GITLAB_WEBHOOK_SECRET: 's',
          SCALE_BOT_DATA: dir,
          PORT: '0',
          LOG_LEVEL: 'silent',
        };
        const r = await runCli([command], { env });
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`scale-bot: ${message} on the data directory ${dir}`);
      } finally {
        held.release();
      }
    },
  );
});

describe('scale-bot inbox', () => {
  /** One dead-lettered job (issue 7) and one pending job (issue 8), written the way the service writes them. */
  function prepare(dataDir: string): { failedId: number; pendingId: number } {
    const store = SqliteInbox.open(join(dataDir, 'inbox.sqlite'));
    try {
      const now = Date.now();
      const delivery = (key: string, iid: number) => ({
        key,
        event: 'Issue Hook',
        uuid: null,
        body: '{}',
        issue: { projectId: 1, iid },
        receivedAt: now,
      });
      store.accept(delivery('k-7', 7), now);
      const job = store.claim(now + 60_000, 60_000)!;
      store.fail(job, 'GitLabHttpError: PUT projects/:id/issues/:iid: 403 Forbidden', now);
      store.accept(delivery('k-8', 8), now + 1);
      const pending = store.list({}).find((j) => j.issue.iid === 8)!;
      return { failedId: job.id, pendingId: pending.id };
    } finally {
      store.close();
    }
  }
  const env = () => ({ SCALE_BOT_DATA: dir });
  const depth = () => {
    const store = SqliteInbox.open(join(dir, 'inbox.sqlite'));
    try {
      return store.depth();
    } finally {
      store.close();
    }
  };

  it('list shows every job, newest first, with the dead letter and its error', async () => {
    const { failedId, pendingId } = prepare(dir);
    const r = await runCli(['inbox', 'list'], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^\\s*${pendingId}  issue 8  pending  attempts 0  \\d{4}-\\d\\d-\\d\\dT`));
    expect(lines[1]).toMatch(new RegExp(`^\\s*${failedId}  issue 7  failed   attempts 1  `));
    expect(lines[2]).toBe('        GitLabHttpError: PUT projects/:id/issues/:iid: 403 Forbidden');
  });

  it('list --failed shows only dead letters; --json prints the jobs', async () => {
    const { failedId } = prepare(dir);
    const failed = await runCli(['inbox', 'list', '--failed'], { env: env() });
    expect(failed.code).toBe(0);
    expect(failed.stdout).toContain('issue 7');
    expect(failed.stdout).not.toContain('issue 8');

    const json = await runCli(['inbox', 'list', '--json'], { env: env() });
    expect(json.code).toBe(0);
    const jobs = JSON.parse(json.stdout) as Job[];
    expect(jobs.map((j) => [j.issue.iid, j.status])).toEqual([
      [8, 'pending'],
      [7, 'failed'],
    ]);
    expect(jobs[1]).toMatchObject({ id: failedId, attempts: 1, lastError: expect.stringContaining('403 Forbidden') });

    const limited = await runCli(['inbox', 'list', '--json', '--failed', '--limit', '1'], { env: env() });
    expect((JSON.parse(limited.stdout) as Job[]).map((j) => j.id)).toEqual([failedId]);
  });

  it('an empty inbox says so; SCALE_BOT_DATA defaults to ./data under the working directory', async () => {
    mkdirSync(join(dir, 'data'));
    SqliteInbox.open(join(dir, 'data', 'inbox.sqlite')).close();
    expect(await runCli(['inbox', 'list'], { cwd: dir, env: {} })).toEqual({
      code: 0,
      stdout: 'no jobs\n',
      stderr: '',
    });
    expect(await runCli(['inbox', 'list', '--failed'], { cwd: dir, env: {} })).toEqual({
      code: 0,
      stdout: 'no failed jobs\n',
      stderr: '',
    });
  });

  it('no inbox where SCALE_BOT_DATA points: a settings error, exit 2, and none is created', async () => {
    const missing = join(dir, 'nowhere');
    for (const args of [
      ['inbox', 'list'],
      ['inbox', 'retry', '--all-failed'],
    ]) {
      const r = await runCli(args, { env: { SCALE_BOT_DATA: missing } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no inbox at ${join(missing, 'inbox.sqlite')} (set SCALE_BOT_DATA`);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('retry ID re-queues that dead letter with its attempts reset', async () => {
    const { failedId, pendingId } = prepare(dir);
    // A pending job is not a dead letter: retrying it is refused.
    expect((await runCli(['inbox', 'retry', String(pendingId)], { env: env() })).code).toBe(1);
    const r = await runCli(['inbox', 'retry', String(failedId)], { env: env() });
    expect(r).toEqual({ code: 0, stdout: `re-queued job ${failedId}\n`, stderr: '' });
    expect(depth()).toMatchObject({ pending: 2, failed: 0 });
    const again = await runCli(['inbox', 'retry', String(failedId)], { env: env() });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no failed job with id ${failedId}`);
  });

  it('retry --all-failed re-queues every dead letter', async () => {
    prepare(dir);
    const r = await runCli(['inbox', 'retry', '--all-failed'], { env: env() });
    expect(r).toEqual({ code: 0, stdout: 're-queued 1 job(s)\n', stderr: '' });
    expect(depth()).toMatchObject({ pending: 2, failed: 0 });
  });

  it.each([
    [['inbox', 'retry'], 2, 'give a job id or --all-failed (one of them)'],
    [['inbox', 'retry', '1', '--all-failed'], 2, 'give a job id or --all-failed (one of them)'],
    [['inbox', 'retry', '999'], 1, 'no failed job with id 999'],
    [['inbox', 'retry', 'abc'], 2, 'a job id is a positive whole number, not "abc"'],
    [['inbox', 'list', '--limit', '0'], 2, '--limit must be a positive whole number, not "0"'],
  ])('bad usage %j exits %i', async (args, code, message) => {
    prepare(dir);
    const r = await runCli(args, { env: env() });
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(depth()).toMatchObject({ pending: 1, failed: 1 });
  });
});

describe('scale-bot replay', () => {
  let fake: FakeGitLab;
  let iid: number;
  beforeEach(async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
    const description = `${readFileSync(join(REPO_ROOT, 'samples', 'requests', 'mm-amr-valid.md'), 'utf8').trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`;
    ({ iid } = await fake.as('alex.ae').createIssue({ title: 'Northwind', description }));
    fake.resetCalls();
  });
  afterEach(async () => {
    await fake.stop();
  });

  const env = () => ({
    GITLAB_URL: fake.url,
    GITLAB_TOKEN: fake.botToken,
    GITLAB_PROJECT: fake.project.path_with_namespace,
    SCALE_BOT_DATA: join(dir, 'data'),
    SCALE_BOT_CONFIG: EXAMPLE_CONFIG_PATH,
    LOG_LEVEL: 'silent',
  });
  /** The documented Issue Hook example, moved to the fake's project and issue. */
  function writePayload(): string {
    const payload = JSON.parse(
      readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'gitlab', 'issue-hook-open.json'), 'utf8'),
    ) as {
      project: Record<string, unknown>;
      object_attributes: Record<string, unknown>;
    };
    payload.project.id = fake.project.id;
    payload.project.path_with_namespace = fake.project.path_with_namespace;
    payload.object_attributes.iid = iid;
    payload.object_attributes.project_id = fake.project.id;
    const file = join(dir, 'payload.json');
    writeFileSync(file, JSON.stringify(payload));
    return file;
  }

  it('--dry-run prints the plan and writes nothing to GitLab', async () => {
    const r = await runCli(['replay', writePayload(), '--dry-run'], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`issue ${iid}: dry-run\nplan:\n  mm_amr v2: assigned;`);
    expect(r.stdout).toMatch(/ {2}labels \+\[[^\]]*engagement::assigned[^\]]*\] -\[\]\n/);
    expect(r.stdout).toMatch(/ {2}assignees (drew|casey)\.cse\n/);
    expect(r.stdout).toContain('  note create request\n');
    expect(r.stdout).toContain('done: nothing (dry run)\n');
    expect(fake.writes()).toEqual([]);
    expect(fake.issue(iid).labels).not.toContain('engagement::assigned');
    expect(fake.botNotes(iid)).toEqual([]);
  });

  it('without --dry-run applies the plan; replaying again writes nothing', async () => {
    const file = writePayload();
    const r = await runCli(['replay', file], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`issue ${iid}: applied\n`);
    expect(r.stdout).toMatch(/done:\n {2}PUT issue \d+: .*\n {2}POST note request \(#\d+\)\n/);
    const issue = fake.issue(iid);
    expect(issue.labels).toEqual(
      expect.arrayContaining(['form::mm_amr', 'segment::mm', 'region::amr', 'engagement::assigned']),
    );
    expect(issue.assignees.map((a) => a.username)).toEqual([expect.stringMatching(/^(drew|casey)\.cse$/)]);
    expect(fake.botNotes(iid)).toHaveLength(1);

    fake.resetCalls();
    const again = await runCli(['replay', file], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`issue ${iid}: unchanged\n`);
    expect(again.stdout).toContain('done:\n  (nothing to write)\n');
    expect(fake.writes()).toEqual([]);
  });

  it('DRY_RUN=1 in the environment is a dry run too', async () => {
    const r = await runCli(['replay', writePayload()], { env: { ...env(), DRY_RUN: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('done: nothing (dry run)\n');
    expect(fake.writes()).toEqual([]);
  });

  it.each([
    ['a missing file', null, 'missing.json: no such file'],
    ['invalid JSON', '{"object_kind": "issue",', 'bad.json: not valid JSON'],
    [
      'a push event',
      '{"object_kind": "push"}',
      'bad.json: not an Issue Hook or Note Hook payload (object_kind "push")',
    ],
    ['JSON null', 'null', 'bad.json: not an Issue Hook or Note Hook payload (object_kind undefined)'],
    [
      'an issue hook without an iid',
      '{"object_kind": "issue", "user": {"username": "root"}, "project": {"id": 1}, "object_attributes": {}}',
      'bad.json: does not match the Issue Hook schema:\n  object_attributes.iid:',
    ],
  ])('%s exits 2 with a clear message and no GitLab call', async (_what, content, message) => {
    const name = content === null ? 'missing.json' : 'bad.json';
    if (content !== null) writeFileSync(join(dir, name), content);
    const r = await runCli(['replay', name], { cwd: dir, env: env() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`scale-bot: ${message}`);
    expect(fake.calls).toEqual([]);
  });

  it('a comment on a merge request is not about an issue: exit 1, nothing replayed', async () => {
    const note = JSON.parse(
      readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'gitlab', 'note-hook-issue.json'), 'utf8'),
    ) as { object_attributes: Record<string, unknown> };
    note.object_attributes.noteable_type = 'MergeRequest';
    writeFileSync(join(dir, 'mr-note.json'), JSON.stringify(note));
    const r = await runCli(['replay', 'mr-note.json'], { cwd: dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mr-note.json: the event is not about an issue; nothing to replay');
    expect(fake.calls).toEqual([]);
  });

  it('a task or epic (object_kind work_item) is not a request: exit 1, nothing replayed', async () => {
    const task = JSON.parse(
      readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'gitlab', 'issue-hook-open.json'), 'utf8'),
    ) as Record<string, unknown>;
    Object.assign(task, { object_kind: 'work_item', event_type: 'work_item' });
    writeFileSync(join(dir, 'task.json'), JSON.stringify(task));
    const r = await runCli(['replay', 'task.json'], { cwd: dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('task.json: a work item that is not an issue (task, epic, …); nothing to replay');
    expect(fake.calls).toEqual([]);
  });

  it('checks the settings (token never printed) after the payload', async () => {
    const r = await runCli(['replay', writePayload()], {
      env: { GITLAB_URL: 'nope', GITLAB_TOKEN: TOKEN, GITLAB_PROJECT: 'sales/x' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('GITLAB_URL must be the GitLab base URL');
    expect(r.stderr).not.toContain('GITLAB_WEBHOOK_SECRET');
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
  });
});
