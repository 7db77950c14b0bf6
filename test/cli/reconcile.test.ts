import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { exampleConfig } from '../helpers/config.js';
import { projectLabels } from '../e2e/stack.js';
import { REPO_ROOT, runCli } from './run-cli.js';

const sample = (name: string) => readFileSync(join(REPO_ROOT, 'samples', 'requests', name), 'utf8');
let fake: FakeGitLab | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
});

describe('scale-bot reconcile', () => {
  it('heals issues no webhook told the bot about, then finds nothing to do; --dry-run writes nothing', async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
    // No webhook target: the bot hears of none of these (a missed or failed delivery).
    const valid = await fake.as('alex.ae').createIssue({
      title: 'Northwind',
      description: `${sample('mm-amr-valid.md')}\n/label ~"segment::mm" ~"region::amr"\n`,
    });
    const other = await fake
      .as('jordan.ae')
      .createIssue({ title: 'Blue Harbor', description: sample('smbeast-amr-missing-fields.md') });
    const env = {
      GITLAB_URL: fake.url,
      GITLAB_TOKEN: fake.botToken,
      GITLAB_PROJECT: fake.project.path_with_namespace,
      SCALE_BOT_DATA: mkdtempSync(join(tmpdir(), 'reconcile-')),
      GITLAB_NOTES_PER_MINUTE: '6000',
    };

    // Just updated: by default left to the webhook worker, which may be passing them right now.
    const early = await runCli(['reconcile'], { env });
    expect(early.code).toBe(0);
    expect(early.stdout).toMatch(new RegExp(`#${valid.iid} settling: updated .*: left to the webhook worker`));
    expect(early.stdout).toContain(
      '0 issue(s) checked, 0 changed, 0 failed, 2 left to the webhook worker (updated in the last 10 min; --settle 0 takes them too)',
    );
    expect(fake.writes()).toEqual([]);

    const dry = await runCli(['reconcile', '--dry-run', '--settle', '0'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('2 issue(s) checked, 2 would change, 0 failed');
    expect(fake.writes()).toEqual([]);
    // Each issue with exactly the writes a real pass would make.
    expect(dry.stdout).toContain(
      '; would labels +form::mm_amr +priority::high +engagement::assigned +escalation::candidate +at-risk; would assign drew.cse; would create note request\n',
    );
    expect(dry.stdout).toContain(
      `#${other.iid} dry-run: smbeast_amr v1: needs-info; 13 problem(s); incomplete, priority low; would labels +form::smbeast_amr +segment::smb +region::amr-east +priority::low +engagement::needs-info; would create note request\n`,
    );

    const run = await runCli(['reconcile', '--settle', '0'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`#${valid.iid} applied: mm_amr v2: assigned`));
    expect(run.stdout).toMatch(new RegExp(`#${other.iid} applied: smbeast_amr v1: needs-info`));
    expect(fake.issue(valid.iid).assignees.map((a) => a.username)).toEqual(['drew.cse']);

    fake.resetCalls();
    const again = await runCli(['reconcile', '--since', '2020-01-01', '--settle', '0'], { env });
    expect(again.stdout).toContain('2 issue(s) checked, 0 changed, 0 failed');
    expect(fake.writes()).toEqual([]);
    // Nothing left to do: a dry run counts only issues a real pass would write to (it used to count every one).
    const dryAgain = await runCli(['reconcile', '--dry-run', '--settle', '0'], { env });
    expect(dryAgain.stdout).toBe(
      `#${valid.iid} unchanged\n#${other.iid} unchanged\n2 issue(s) checked, 0 would change, 0 failed\n`,
    );
    fake.assertNoViolations();
  });

  it('through the real executable, log lines go to stderr and stdout holds only the results', async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
    await fake.as('alex.ae').createIssue({ title: 'Northwind', description: sample('mm-amr-valid.md') });
    const env = {
      PATH: process.env.PATH,
      GITLAB_URL: fake.url,
      GITLAB_TOKEN: fake.botToken,
      GITLAB_PROJECT: fake.project.path_with_namespace,
      SCALE_BOT_DATA: mkdtempSync(join(tmpdir(), 'reconcile-')),
      LOG_LEVEL: 'info',
    };
    // Asynchronous: the fake GitLab answers from this process.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['bin/scale-bot.js', 'reconcile', '--dry-run', '--settle', '0'],
      { cwd: REPO_ROOT, env },
    );
    expect(stdout).toMatch(/^#1 dry-run: mm_amr v2/);
    expect(
      stdout
        .trimEnd()
        .split('\n')
        .every((l) => /^#\d+ |^\d+ issue\(s\) checked/.test(l)),
    ).toBe(true);
    expect(stderr).toContain('"msg":"plan decided"');
  });

  it('three runs, each from a fresh directory, continue one round-robin rotation and create no files', async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
    const scratch = mkdtempSync(join(tmpdir(), 'reconcile-rotation-'));
    try {
      const assigned: string[] = [];
      for (const [run, customer] of ['Acme Pools', 'Birch Dental', 'Cobalt Farms'].entries()) {
        const description = sample('mm-amr-valid.md')
          .replace('id=mm_amr version=2', 'id=smbeast_amr version=1')
          .replace('## Scale Engagement Request — Mid-Market, AMER', '')
          .replace('$210k', '$60k')
          .replaceAll('Northwind Traders', customer)
          .replace('0014M00001lAbCdQAK', `0014M0000${run}RotAtEQAK`);
        const { iid } = await fake.as('jordan.ae').createIssue({
          title: customer,
          description: `${description}\n/label ~"segment::smb" ~"region::amr-east"\n`,
        });
        // What a CI job has: no data directory from the run before.
        const dataDir = join(scratch, `run-${run}`);
        const env = {
          GITLAB_URL: fake.url,
          GITLAB_TOKEN: fake.botToken,
          GITLAB_PROJECT: fake.project.path_with_namespace,
          SCALE_BOT_DATA: dataDir,
          GITLAB_NOTES_PER_MINUTE: '6000',
        };
        const r = await runCli(['reconcile', '--settle', '0'], { env });
        expect(r.code).toBe(0);
        expect(existsSync(dataDir)).toBe(false);
        assigned.push(...fake.issue(iid).assignees.map((a) => a.username));
        // The first request is done and closed before the next run: closed requests still place the rotation.
        if (run === 0) await fake.as('emery.cse').closeIssue(iid);
      }
      expect(assigned).toEqual(['emery.cse', 'gray.cse', 'emery.cse']);
      expect(readdirSync(scratch)).toEqual([]);
      fake.assertNoViolations();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('rejects a --since that is not a date, exit 2', async () => {
    const r = await runCli(['reconcile', '--since', 'yesterday-ish'], { env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--since must be an ISO date');
  });

  it.each(['-1', 'soon', ''])('rejects --settle %j, exit 2', async (value) => {
    const r = await runCli(['reconcile', '--settle', value], { env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--settle must be a number of minutes');
  });
});
