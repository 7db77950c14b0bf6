import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH } from '../../src/config/load-config.js';
import { noteMarker } from '../../src/domain/bot-note-marker.js';
import { REQUEST_NOTE } from '../../src/domain/request-note.js';
import type { FakeGitLab } from '../../src/fake-gitlab/server.js';
import {
  bundled,
  lowerCeilingRoundRobin,
  mmRequest,
  requestProject,
  sample,
  threeMmRequests,
  v2Dropped,
} from '../helpers/config-change.js';
import { runCli } from './run-cli.js';

let fake: FakeGitLab | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await fake?.stop();
  fake = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function project() {
  const project = await requestProject();
  fake = project.fake;
  return project;
}

describe('scale-bot simulate', () => {
  it('lists exactly the requests a change would decide differently, and why; counts the rest', async () => {
    const { fake, env } = await project();
    const base = fake.head()!;
    const { cheap, big, other } = await threeMmRequests(fake);
    await fake
      .as('jordan.ae')
      .createIssue({ title: 'Blue Harbor', description: sample('smbeast-amr-missing-fields.md') });
    const head = await fake.push(
      { [DEFAULT_CONFIG_PATH]: lowerCeilingRoundRobin },
      { message: 'Lower the MM ceiling; mm/amr round-robin', as: 'harper.mgr' },
    );
    fake.resetCalls();

    const md = await runCli(['simulate', '--base', base, '--head', head], { env });
    expect(md.stderr).toBe('');
    expect(md.code).toBe(0);
    const rows = md.stdout.split('\n').filter((l) => l.startsWith('| #'));
    expect(rows.map((r) => r.split(' ')[1])).toEqual([`#${cheap.iid}`, `#${big.iid}`, `#${other.iid}`]);
    expect(md.stdout).toContain('4 unchanged request(s) not listed');
    expect(fake.writes()).toEqual([]);

    const json = await runCli(['simulate', '--base', base, '--head', head, '--format', 'json'], { env });
    const parsed = JSON.parse(json.stdout) as {
      summary: string;
      total: number;
      unchanged: number;
      diffs: Array<{ iid: number; changes: Array<{ aspect: string; before: string; after: string }> }>;
    };
    expect([parsed.total, parsed.unchanged]).toEqual([7, 4]);
    expect(parsed.summary).toBe(
      '3 of 7 request(s) would change: 2 would go to drew.cse instead of casey.cse (pool mm/amr now round-robin); 1 would no longer qualify (ARR of $210,000 is above the Mid-Market ceiling of $150,000; check the segment, or file it with the team that covers larger accounts.)',
    );
    expect(parsed.diffs.find((d) => d.iid === big.iid)!.changes.map((c) => c.aspect)).toEqual([
      'qualification',
      'assignee',
      'state',
    ]);
    expect(parsed.diffs.find((d) => d.iid === cheap.iid)!.changes).toEqual([
      {
        aspect: 'assignee',
        before: 'casey.cse (pool mm/amr, least-loaded)',
        after: 'drew.cse (pool mm/amr, round-robin)',
      },
    ]);
  });

  it('lists open requests whose form version the change no longer knows first, as breaking, and exits 1', async () => {
    const { env } = await project();
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'base.yml'), bundled);
    writeFileSync(join(dir, 'head.yml'), v2Dropped);
    const result = await runCli(
      ['simulate', '--base-file', join(dir, 'base.yml'), '--head-file', join(dir, 'head.yml')],
      { env },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '**3 of 3 request(s) would change (3 breaking): 3 form mm_amr v2 would no longer be recognised**',
    );
    expect(result.stdout.split('\n').filter((l) => l.startsWith('| **breaking** #'))).toHaveLength(3);
  });

  it('--last N adds the N requests opened most recently, open or closed, to the open ones; --since or --last, not both', async () => {
    const { fake, env } = await project();
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'base.yml'), bundled);
    writeFileSync(join(dir, 'head.yml'), lowerCeilingRoundRobin);
    const ae = fake.as('alex.ae');
    const closedOld = await ae.createIssue({ title: 'Old', description: mmRequest('Old Co', '$210k') });
    // Created a few milliseconds apart: --since tells them apart by creation time.
    await new Promise((r) => setTimeout(r, 5));
    const closedNew = await ae.createIssue({ title: 'Newer', description: mmRequest('Newer Co', '$210k') });
    // Closed after the bot handled them (its request note): closed requests the bot never saw are no requests.
    for (const { iid } of [closedOld, closedNew]) {
      await fake.as('scale-bot').comment(iid, `${noteMarker(REQUEST_NOTE, { state: 'assigned' })}\nAssigned.`);
      await ae.closeIssue(iid);
    }
    const open = await ae.createIssue({ title: 'Open', description: mmRequest('Open Co', '$210k') });
    // The bot's own issue (a report) is the newest, but no request: it is not one of the N.
    await fake
      .as('scale-bot')
      .createIssue({ title: 'Report', description: 'numbers', labels: ['scale-bot::operations'] });
    fake.resetCalls();
    const run = async (...window: string[]) => {
      const result = await runCli(
        [
          'simulate',
          '--base-file',
          join(dir, 'base.yml'),
          '--head-file',
          join(dir, 'head.yml'),
          '--format',
          'json',
          ...window,
        ],
        { env },
      );
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as { total: number; diffs: Array<{ iid: number }> };
    };
    const changed = (s: { diffs: Array<{ iid: number }> }) => s.diffs.map((d) => d.iid).filter((i) => i > 3);

    // The three requests held by CSEs and the open one; the closed ones only when in the window.
    expect((await run()).total).toBe(4);
    // One listing of the project serves both configurations (two disjoint filters: created within the
    // history window, and open from before it), not one per account index, side and routing state.
    const listings = () =>
      fake.callsBy('scale-bot').filter((c) => c.method === 'GET' && /\/issues$/.test(c.path) && !c.query.labels);
    expect(listings()).toHaveLength(2);
    const last2 = await run('--last', '2');
    expect(last2.total).toBe(5);
    expect(changed(last2)).toEqual([closedNew.iid, open.iid]);
    const last3 = await run('--last', '3');
    expect(last3.total).toBe(6);
    expect(changed(last3)).toEqual([closedOld.iid, closedNew.iid, open.iid]);
    const since = await run('--since', closedNew.created_at);
    expect([since.total, ...changed(since)]).toEqual([5, closedNew.iid, open.iid]);
    expect(fake.writes()).toEqual([]);

    const both = await runCli(
      ['simulate', '--base', 'main', '--head', 'main', '--since', '2026-01-01', '--last', '5'],
      {
        env,
      },
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --since or --last, not both');
    const zero = await runCli(['simulate', '--base', 'main', '--head', 'main', '--last', '0'], { env });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--last must be a number of requests (1 or more), not "0"');
  });

  it('refuses an invalid configuration with its problems (exit 2), and a side given twice or not at all', async () => {
    const { fake, env } = await project();
    const base = fake.head()!;
    await fake.push({ [DEFAULT_CONFIG_PATH]: bundled.replace('max: 250000', 'max: lots') });
    const invalid = await runCli(['simulate', '--base', base, '--head', 'main'], { env });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(
      /^Configuration \.gitlab\/scale-bot\.yml at main \(commit [0-9a-f]{8}\) is invalid:\n  - segments\.mm\.arr\.max \(line \d+:\d+\): /,
    );
    const neither = await runCli(['simulate', '--base', 'main'], { env });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give --head <ref> or --head-file <file> (one of them)');
  });
});
