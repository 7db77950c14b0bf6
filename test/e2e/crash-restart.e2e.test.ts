import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { REPO_ROOT } from '../cli/run-cli.js';
import { EXAMPLE_CONFIG_PATH, exampleConfig } from '../helpers/config.js';
import { projectLabels, WEBHOOK_SECRET } from './stack.js';

/**
 * The compiled service as a real child process (`node bin/scale-bot.js serve`, built by `npm test`)
 * against a slow fake GitLab in this process: killed with SIGKILL while passes are in flight, then
 * restarted on the same data directory; and stopped with SIGTERM.
 */

const SAMPLES = join(REPO_ROOT, 'samples', 'requests');
const sample = (name: string) => readFileSync(join(SAMPLES, name), 'utf8');

interface LogLine {
  msg?: string;
  url?: string;
  recovered?: number;
  [key: string]: unknown;
}

interface Bot {
  child: ChildProcess;
  url: string;
  log: LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let fake: FakeGitLab | null = null;
let dataDir: string | null = null;
let inbox: SqliteInbox | null = null;
const children: ChildProcess[] = [];

afterEach(async () => {
  // Whatever happened in the test, no bot process outlives it.
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  inbox?.close();
  inbox = null;
  await fake?.stop();
  fake = null;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
});

/** Starts `scale-bot serve` and resolves once it logs where it listens; GitLab's webhook points at it. */
async function startBot(gitlab: FakeGitLab, data: string, args: string[] = ['serve']): Promise<Bot> {
  const bot = await spawnBot(gitlab, data, args, 'listening for GitLab webhooks');
  gitlab.setWebhook({ url: `${bot.url}/webhooks/gitlab`, token: WEBHOOK_SECRET });
  return bot;
}

/** Starts the compiled CLI with the service's environment; resolves once it logs `ready`. */
async function spawnBot(gitlab: FakeGitLab, data: string, args: string[], ready: string): Promise<Bot> {
  const child = spawn(process.execPath, ['bin/scale-bot.js', ...args], {
    cwd: REPO_ROOT,
    env: {
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.botToken,
      GITLAB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITLAB_PROJECT: gitlab.project.path_with_namespace,
      SCALE_BOT_DATA: data,
      SCALE_BOT_CONFIG: EXAMPLE_CONFIG_PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
  const log: LogLine[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`scale-bot ${args.join(' ')} did not log "${ready}" within 10 s\n${stderr}`)),
      10_000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: LogLine;
      try {
        entry = JSON.parse(line) as LogLine;
      } catch {
        entry = { msg: line };
      }
      log.push(entry);
      if (entry.msg === ready) {
        clearTimeout(timer);
        resolve(typeof entry.url === 'string' ? entry.url : '');
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`scale-bot ${args.join(' ')} exited (${code ?? signal}) before logging "${ready}"\n${stderr}`));
    });
  });
  return { child, url, log, exited };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Distinct customers and Salesforce ids, so no request is another's duplicate and each is routed on its own. */
function request(i: number): { author: string; segment: 'mm' | 'ent'; description: string } {
  const mm = i % 2 === 0;
  const description = mm
    ? sample('mm-amr-valid.md')
        .replace('Northwind Traders', `Northwind Traders ${i}`)
        .replace('0014M00001lAbCdQAK', `0014M00001lAbC${i}QAK`)
    : sample('ent-amr-valid.md')
        .replace('Contoso Pharmaceuticals', `Contoso Pharmaceuticals ${i}`)
        .replace('0016100000XyZabAAB', `0016100000XyZa${i}AAB`);
  const segment = mm ? 'mm' : 'ent';
  // What an AE pastes: the template as GitLab shows it, quick actions included.
  return {
    author: mm ? 'alex.ae' : 'sam.sal',
    segment,
    description: `${description.trimEnd()}\n\n/label ~"segment::${segment}" ~"region::amr"\n`,
  };
}

/** Issues the fake delivered a person's event about and the bot answered 202 (queued). */
function acknowledgedIssues(gitlab: FakeGitLab): Set<number> {
  const iids = new Set<number>();
  for (const d of gitlab.deliveries) {
    const payload = d.payload as {
      user: { username: string };
      object_attributes: { iid?: number };
      issue?: { iid: number };
    };
    if (d.status !== 202 || payload.user.username === gitlab.botUsername) continue;
    const iid = payload.issue?.iid ?? payload.object_attributes.iid;
    if (iid !== undefined) iids.add(iid);
  }
  return iids;
}

const requestNotes = (gitlab: FakeGitLab, iid: number) =>
  gitlab.botNotes(iid).filter((n) => readNoteMarker(n.body)?.key === 'request');

function isFinal(gitlab: FakeGitLab, iid: number): boolean {
  const issue = gitlab.issue(iid);
  return (
    issue.labels.includes('engagement::assigned') &&
    issue.assignees.length === 1 &&
    requestNotes(gitlab, iid).length > 0
  );
}

describe('crash and restart of the real service process', () => {
  it('SIGKILL with passes in flight, restart on the same data: every acknowledged delivery is processed, no note duplicated', async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()), latencyMs: 200 });
    const gitlab = fake;
    dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-crash-'));
    const first = await startBot(gitlab, dataDir);
    inbox = SqliteInbox.open(join(dataDir, 'inbox.sqlite'));

    const created: Array<{ iid: number; segment: string }> = [];
    for (let i = 0; i < 6; i++) {
      const r = request(i);
      const issue = await gitlab.as(r.author).createIssue({ title: `Request ${i}`, description: r.description });
      created.push({ iid: issue.iid, segment: r.segment });
    }
    expect(acknowledgedIssues(gitlab)).toEqual(new Set(created.map((c) => c.iid)));

    // The worst moment: a note POST has reached GitLab and is still unanswered, so its outcome is
    // unknown to the bot; other jobs are still queued behind it.
    const notePostInFlight = () =>
      gitlab.calls.some(
        (c) => c.actor === gitlab.botUsername && c.method === 'POST' && /\/notes$/.test(c.path) && c.status === null,
      );
    await waitFor('a bot note POST in flight', notePostInFlight, 15_000, 5);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const left = inbox.depth();
    expect(left.running).toBeGreaterThan(0);
    expect(left.pending + left.running).toBeGreaterThanOrEqual(2);
    expect(created.filter((c) => !isFinal(gitlab, c.iid)).length).toBeGreaterThan(0);

    const second = await startBot(gitlab, dataDir);
    expect(
      second.log.some((l) => l.msg === 'resumed jobs left running by a previous process' && (l.recovered ?? 0) >= 1),
    ).toBe(true);
    await waitFor(
      'every issue in its final state and an empty queue',
      () =>
        created.every((c) => isFinal(gitlab, c.iid)) && inbox!.depth().pending === 0 && inbox!.depth().running === 0,
      25_000,
      100,
    );
    await gitlab.settled();

    for (const { iid, segment } of created) {
      const issue = gitlab.issue(iid);
      expect(issue.labels).toEqual(
        expect.arrayContaining([`segment::${segment}`, 'region::amr', `form::${segment}_amr`, 'engagement::assigned']),
      );
      const [assignee] = issue.assignees.map((a) => a.username);
      expect(issue.assignees).toHaveLength(1);
      expect(assignee).toMatch(/^(casey|drew)\.cse$/);
      expect(requestNotes(gitlab, iid)).toHaveLength(1);
      // Told even when the crash fell between the assigning PUT and the note.
      expect(gitlab.mentions.filter((m) => m.iid === iid).map((m) => m.username)).toContain(assignee);
    }
    // No duplicate anywhere: each issue holds at most one bot note per marker key, and nothing unmarked.
    for (const { iid } of created) {
      const keys = gitlab.botNotes(iid).map((n) => readNoteMarker(n.body)?.key ?? '(no marker)');
      expect(keys).not.toContain('(no marker)');
      expect(new Set(keys).size).toBe(keys.length);
    }
    expect(inbox.list({ failed: true })).toEqual([]);
    gitlab.assertNoViolations();
  }, 40_000);

  // The window between the pass's PUT (labels + assignee) and its request-note POST, made
  // deterministic: the POST is held unanswered (never applied) while the process is killed.
  it('SIGKILL after the assigning PUT, before the request note: the restarted pass still tells the assigned CSE', async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()), latencyMs: 200 });
    const gitlab = fake;
    dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-crash-'));
    const first = await startBot(gitlab, dataDir);
    gitlab.failNext({ method: 'POST', path: /\/notes$/ }, { hang: true });
    const r = request(0);
    const { iid } = await gitlab.as(r.author).createIssue({ title: 'Northwind', description: r.description });
    await waitFor(
      'the note POST held by GitLab',
      () => gitlab.calls.some((c) => c.method === 'POST' && /\/notes$/.test(c.path) && c.status === null),
      10_000,
      5,
    );
    const [assignee] = gitlab.issue(iid).assignees.map((a) => a.username);
    expect(assignee).toMatch(/^(casey|drew)\.cse$/);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(gitlab.botNotes(iid)).toEqual([]);

    await startBot(gitlab, dataDir);
    await waitFor('the request note', () => requestNotes(gitlab, iid).length > 0, 10_000, 50);
    await gitlab.settled();
    expect(gitlab.issue(iid).assignees.map((a) => a.username)).toEqual([assignee]);
    const [note] = requestNotes(gitlab, iid);
    // The bot made this assignment: the note must say so and @mention the CSE.
    expect(note!.body).not.toContain('assigned by a person');
    expect(gitlab.mentions.filter((m) => m.iid === iid).map((m) => m.username)).toContain(assignee);
  }, 20_000);

  it('serve --no-worker and `scale-bot worker` as two processes: the worker waits for work, does it, and stops on SIGTERM', async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
    const gitlab = fake;
    dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-split-'));
    const server = await startBot(gitlab, dataDir, ['serve', '--no-worker']);
    const worker = await spawnBot(gitlab, dataDir, ['worker'], 'worker started');
    // Idle for longer than its poll interval: it must still be there.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(worker.child.exitCode).toBeNull();

    const r = request(0);
    const { iid } = await gitlab.as(r.author).createIssue({ title: 'Northwind', description: r.description });
    expect(acknowledgedIssues(gitlab)).toEqual(new Set([iid]));
    await waitFor('the worker process to assign the request', () => isFinal(gitlab, iid), 10_000, 50);

    for (const bot of [worker, server]) {
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toEqual({ code: 0, signal: null });
    }
    gitlab.assertNoViolations();
  }, 20_000);

  it('SIGTERM: stops accepting, lets in-flight passes finish, exits 0 within seconds and leaves no job running', async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()), latencyMs: 200 });
    const gitlab = fake;
    dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-term-'));
    const bot = await startBot(gitlab, dataDir);
    inbox = SqliteInbox.open(join(dataDir, 'inbox.sqlite'));

    for (let i = 0; i < 3; i++) {
      const r = request(i);
      await gitlab.as(r.author).createIssue({ title: `Request ${i}`, description: r.description });
    }
    await waitFor('a running job', () => inbox!.depth().running > 0, 10_000, 5);
    const signalled = Date.now();
    bot.child.kill('SIGTERM');
    const exit = await Promise.race([bot.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(bot.log.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    await expect(fetch(`${bot.url}/healthz`)).rejects.toThrow();

    inbox.close();
    inbox = SqliteInbox.open(join(dataDir, 'inbox.sqlite'));
    expect(inbox.depth().running).toBe(0);
    gitlab.assertNoViolations();
  }, 20_000);
});
