import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noteMarker } from '../../src/domain/bot-note-marker.js';
import { startFakeGitLab, type FakeGitLab, type SeedIssue } from '../../src/fake-gitlab/server.js';
import { exampleConfig } from '../helpers/config.js';
import { projectLabels } from '../e2e/stack.js';
import { REPO_ROOT, runCli } from './run-cli.js';

const sample = (name: string) => readFileSync(join(REPO_ROOT, 'samples', 'requests', name), 'utf8');
const at = (iso: string) => new Date(iso);
// Tuesday 24 November 2026, 15:00 UTC (10:00 in New York): the last complete ISO week is 2026-W47.
const NOW = at('2026-11-24T15:00:00Z');

let fake: FakeGitLab | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
});

/** A small programme: a completed engagement, one waiting on its author, one waiting on its CSE. */
async function programme(): Promise<{ fake: FakeGitLab; env: NodeJS.ProcessEnv; iids: number[] }> {
  fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()), now: () => NOW });
  const seeds: Array<Partial<SeedIssue>> = [
    {
      title: 'Northwind Traders',
      description: sample('mm-amr-valid.md'),
      author: 'alex.ae',
      assignees: ['drew.cse'],
      state: 'closed',
      labels: ['engagement::completed'],
      createdAt: at('2026-11-16T14:00:00Z'),
      updatedAt: at('2026-11-20T14:00:00Z'),
      closedAt: at('2026-11-20T14:00:00Z'),
      history: [
        { label: 'engagement::assigned', action: 'add', at: at('2026-11-16T14:05:00Z'), by: 'scale-bot' },
        { label: 'engagement::accepted', action: 'add', at: at('2026-11-17T15:00:00Z'), by: 'drew.cse' },
        { label: 'engagement::assigned', action: 'remove', at: at('2026-11-17T15:00:00Z'), by: 'drew.cse' },
        { label: 'engagement::completed', action: 'add', at: at('2026-11-20T14:00:00Z'), by: 'drew.cse' },
        { label: 'engagement::accepted', action: 'remove', at: at('2026-11-20T14:00:00Z'), by: 'drew.cse' },
      ],
    },
    {
      title: 'Blue Harbor',
      description: sample('smbeast-amr-missing-fields.md'),
      author: 'jordan.ae',
      labels: ['engagement::needs-info'],
      createdAt: at('2026-11-18T10:00:00Z'),
      updatedAt: at('2026-11-18T10:01:00Z'),
      history: [{ label: 'engagement::needs-info', action: 'add', at: at('2026-11-18T10:01:00Z'), by: 'scale-bot' }],
    },
    {
      // Assigned Wednesday 18 Nov 11:00 New York; 2 business days → due Friday 20 Nov 11:00 NY
      // (16:00 UTC); escalation a business day later, Monday 23 Nov 16:00 UTC. Both past at NOW.
      title: 'Contoso',
      description: sample('ent-amr-valid.md'),
      author: 'sam.sal',
      assignees: ['casey.cse'],
      labels: ['engagement::assigned'],
      createdAt: at('2026-11-18T15:55:00Z'),
      updatedAt: at('2026-11-23T16:30:00Z'),
      history: [{ label: 'engagement::assigned', action: 'add', at: at('2026-11-18T16:00:00Z'), by: 'scale-bot' }],
    },
    // Not a request: no form. Reports and reminders leave it out.
    {
      title: 'Question about CI',
      description: 'How do I cache node_modules?',
      author: 'alex.ae',
      createdAt: at('2026-11-17T09:00:00Z'),
    },
    // Not a request either: a task, even one pasted from a request template and labelled like one.
    {
      title: 'Prep call (task)',
      description: sample('ent-amr-valid.md'),
      author: 'sam.sal',
      issueType: 'task',
      assignees: ['casey.cse'],
      labels: ['engagement::assigned'],
      createdAt: at('2026-11-18T15:55:00Z'),
      history: [{ label: 'engagement::assigned', action: 'add', at: at('2026-11-18T16:00:00Z'), by: 'casey.cse' }],
    },
  ];
  const iids = seeds.map((s) => fake!.seedIssues(1, () => s)[0]!);
  const env = {
    GITLAB_URL: fake.url,
    GITLAB_TOKEN: fake.botToken,
    GITLAB_PROJECT: fake.project.path_with_namespace,
    LOG_LEVEL: 'silent',
  };
  return { fake, env, iids };
}

/** The fake's issues with this exact title (iids are small here). */
function titled(f: FakeGitLab, title: string) {
  const found = [];
  for (let iid = 1; iid <= 50; iid++) {
    try {
      const issue = f.issue(iid);
      if (issue.title === title) found.push(issue);
    } catch {
      // no such issue
    }
  }
  return found;
}

describe('scale-bot report', () => {
  it('writes the three files for the last complete week, from GitLab alone', async () => {
    const { env } = await programme();
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const r = await runCli(['report', '--period', 'week', '--out', out], { env, now: NOW });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2026-W47: 3 request(s) opened');
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.period).toMatchObject({
      label: '2026-W47',
      from: '2026-11-16T00:00:00.000Z',
      to: '2026-11-23T00:00:00.000Z',
    });
    expect(json.opened.total).toBe(3);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('```mermaid');
    expect(md).toMatch(/Contoso/);
    const csv = readFileSync(join(out, 'report.csv'), 'utf8').trim().split(/\r?\n/);
    expect(csv).toHaveLength(4);
    expect(csv[0]).toMatch(/^iid,url,created_at,form,form_version,segment,region,state/);
  });

  it('--post creates the period issue once and updates it on the next run; --dry-run posts nothing', async () => {
    const { fake, env } = await programme();
    const dry = await runCli(['report', '--post', '--dry-run'], { env, now: NOW });
    expect(dry.stdout).toContain('would create: "Scale engagement report 2026-W47"');
    expect(fake.writes()).toEqual([]);

    const first = await runCli(['report', '--post'], { env, now: NOW });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created: "Scale engagement report 2026-W47" http/);
    const later = new Date(NOW.getTime() + 3_600_000);
    const second = await runCli(['report', '--post'], { env, now: later });
    expect(second.stdout).toMatch(/updated: "Scale engagement report 2026-W47"/);
    // The same report again: GitLab keeps the description right-trimmed, and the bot compares it so.
    fake.resetCalls();
    const third = await runCli(['report', '--post'], { env, now: later });
    expect(third.stdout).toMatch(/unchanged: "Scale engagement report 2026-W47"/);
    expect(fake.writes()).toEqual([]);
    const reports = titled(fake, 'Scale engagement report 2026-W47');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.labels).toContain('scale-bot::operations');
    fake.assertNoViolations();
  });

  it('says why when GitLab cannot be used: unreachable, a refused token, a failure part-way (exit 1, nothing half-written)', async () => {
    const { fake, env } = await programme();
    const down = await runCli(['report'], { env: { ...env, GITLAB_URL: 'http://127.0.0.1:9' }, now: NOW });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach GitLab at http:\/\/127\.0\.0\.1:9/);
    const refused = await runCli(['remind'], { env: { ...env, GITLAB_TOKEN: 'wrong' }, now: NOW });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused the token (401): check GITLAB_TOKEN');
    expect(refused.stderr).not.toContain('wrong');
    // Label events keep answering 503: after its retries the report fails with the reason and writes no file.
    fake.failNext({ method: 'GET', path: /resource_label_events/ }, { status: 503 }, 1000);
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const broken = await runCli(['report', '--out', out], { env, now: NOW });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /^scale-bot: report failed: GET projects\/:id\/issues\/:iid\/resource_label_events: 503/m,
    );
    expect(readdirSync(out)).toEqual([]);
  }, 30_000);

  it('rejects bad periods with exit 2 and a clear message', async () => {
    for (const [args, message] of [
      [['report', '--period', 'fortnight'], '--period must be "week" or "month"'],
      [['report', '--from', '2026-11-01'], '--from and --to go together'],
      [['report', '--period', 'month', '--from', '2026-11-01', '--to', '2026-11-30'], 'not both'],
      [['report', '--from', '2026-02-30', '--to', '2026-03-01'], '--from "2026-02-30" is not a valid date'],
      [['report', '--from', '2026-11-02', '--to', '2026-11-01'], '--from 2026-11-02 is after --to 2026-11-01'],
    ] as const) {
      const r = await runCli([...args], { env: {} });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});

describe('scale-bot remind', () => {
  it('reminds the CSE and escalates to the backup and manager once; a second run sends nothing', async () => {
    const { fake, env, iids } = await programme();
    const dry = await runCli(['remind', '--dry-run'], { env, now: NOW });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would remind @casey.cse: #${iids[2]} accept`);
    expect(dry.stdout).toContain(`would remind @harper.mgr: #${iids[2]} escalate`);
    expect(fake.writes()).toEqual([]);

    const run = await runCli(['remind'], { env, now: NOW });
    expect(run.code).toBe(0);
    const [issue] = titled(fake, 'Scale engagement reminders');
    if (!issue) throw new Error('no reminders issue');
    const notes = fake.botNotes(issue.iid);
    const casey = notes.filter((n) => n.body.includes('@casey.cse'));
    expect(casey).toHaveLength(1);
    expect(casey[0]!.body).toContain(`/issues/${iids[2]}`);

    const again = await runCli(['remind'], { env, now: new Date(NOW.getTime() + 3_600_000) });
    expect(again.stdout).toMatch(/^0 person\(s\) reminded/m);
    expect(fake.botNotes(issue.iid)).toHaveLength(notes.length);
    fake.assertNoViolations();
  });

  it('holds reminders during quiet hours (night in New York) and sends them after', async () => {
    const { fake, env } = await programme();
    const night = at('2026-11-25T04:00:00Z'); // 23:00 in New York
    const r = await runCli(['remind'], { env, now: night });
    expect(r.stdout).toMatch(/held for @casey\.cse until/);
    expect(fake.writes()).toEqual([]);
  });

  it('counts the follow-up from the recorded "Call held" tick', async () => {
    const { fake, env } = await programme();
    const [iid] = fake.seedIssues(1, () => ({
      title: 'Fabrikam',
      description: sample('mm-amr-valid.md'),
      author: 'alex.ae',
      assignees: ['drew.cse'],
      labels: ['engagement::scheduled'],
      createdAt: at('2026-11-09T15:00:00Z'),
      updatedAt: at('2026-11-23T15:00:00Z'),
      history: [
        { label: 'engagement::assigned', action: 'add', at: at('2026-11-09T15:01:00Z'), by: 'scale-bot' },
        { label: 'engagement::accepted', action: 'add', at: at('2026-11-10T15:00:00Z'), by: 'drew.cse' },
        { label: 'engagement::scheduled', action: 'add', at: at('2026-11-12T15:00:00Z'), by: 'drew.cse' },
      ],
    }));
    // The bot's tracker note, as the service leaves it: "Call held" first seen ticked Thursday 19 Nov.
    const body = `${noteMarker('request', { state: 'scheduled', ticks: { 'CTA created': '2026-11-12T15:00:00.000Z', 'Call held': '2026-11-19T15:00:00.000Z' } })}\n- [x] CTA created\n- [x] Call held\n- [ ] Follow-up email sent (it triggers the CSAT survey)\n`;
    await fake.as('scale-bot').comment(iid!, body);
    const r = await runCli(['remind', '--dry-run'], { env, now: NOW });
    // Due Monday 23 Nov 10:00 New York (2 business days after Thursday 10:00): past at NOW.
    expect(r.stdout).toContain(`would remind @drew.cse: #${iid} follow-up`);
  });

  it('reminds an author whose request waits on them once, then closes it with how to reopen; --dry-run writes nothing', async () => {
    let clock = at('2026-12-03T15:00:00Z');
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()), now: () => clock });
    const env = {
      GITLAB_URL: fake.url,
      GITLAB_TOKEN: fake.botToken,
      GITLAB_PROJECT: fake.project.path_with_namespace,
      LOG_LEVEL: 'silent',
    };
    // Needs info since Wed 18 Nov 10:01Z (05:01 New York), its author silent since. Region amr-east
    // (US holidays): 10 business days → Thu 19 .. Wed 25 (1-5), Thanksgiving, Fri 27 .. Thu 3 Dec
    // (6-10) → Thu 3 Dec 10:01Z, past at 15:00Z.
    const [iid] = fake.seedIssues(1, () => ({
      title: 'Blue Harbor',
      description: sample('smbeast-amr-missing-fields.md'),
      author: 'jordan.ae',
      labels: ['engagement::needs-info'],
      createdAt: at('2026-11-18T10:00:00Z'),
      updatedAt: at('2026-12-01T10:00:00Z'), // the bot's own edits: never activity
      history: [{ label: 'engagement::needs-info', action: 'add', at: at('2026-11-18T10:01:00Z'), by: 'scale-bot' }],
    }));
    const dry = await runCli(['remind', '--dry-run'], { env, now: clock });
    expect(dry.stdout).toContain(
      `would remind the author of #${iid}: waiting on @jordan.ae since 2026-11-18T10:01:00.000Z`,
    );
    expect(fake.writes()).toEqual([]);

    expect((await runCli(['remind'], { env, now: clock })).stdout).toContain(`reminded the author of #${iid}`);
    const reminder = fake.botNotes(iid!);
    expect(reminder).toHaveLength(1);
    expect(reminder[0]!.body).toContain(
      '@jordan.ae, this request has been waiting for more information from you for 10 business days',
    );
    // Once: the next run finds its marker.
    expect((await runCli(['remind'], { env, now: clock })).stdout).not.toContain(`#${iid}`);

    // Reminded Thu 3 Dec 15:00Z; 5 business days later (Fri 4, Mon 7 .. Thu 10) → Thu 10 Dec 15:00Z.
    clock = at('2026-12-10T14:59:00Z');
    expect((await runCli(['remind'], { env, now: clock })).stdout).not.toContain(`#${iid}`);
    clock = at('2026-12-10T15:00:00Z');
    expect((await runCli(['remind'], { env, now: clock })).stdout).toContain(`closed #${iid}: waiting on @jordan.ae`);
    expect(fake.issue(iid!).state).toBe('closed');
    const notes = fake.botNotes(iid!);
    expect(notes).toHaveLength(2);
    expect(notes[1]!.body).toContain('reopen the issue (the **Reopen issue** button, or a comment with `/reopen`)');
    fake.assertNoViolations();
  });
});
