import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH } from '../../src/config/load-config.js';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import type { FakeGitLab } from '../../src/fake-gitlab/server.js';
import { CONFIG_CHANGE_NOTE } from '../../src/jobs/merge-request-note.js';
import {
  bundled,
  lowerCeilingRoundRobin,
  mmRequest,
  requestProject,
  threeMmRequests,
  v2EditedInPlace,
} from '../helpers/config-change.js';
import { runCli } from '../cli/run-cli.js';

let fake: FakeGitLab | null = null;
afterEach(async () => {
  fake?.assertNoViolations();
  await fake?.stop();
  fake = null;
});

/** What the merge-request job of .gitlab-ci.yml runs: simulate against the target branch, one note on the MR. */
const mrJob = (env: Record<string, string>, head: string, mrIid: number) =>
  runCli(['simulate', '--base', 'main', '--head', head, '--post-to-mr', String(mrIid)], { env });
const configNotes = (f: FakeGitLab, mrIid: number) =>
  f.mergeRequestNotes(mrIid).filter((n) => readNoteMarker(n.body)?.key === CONFIG_CHANGE_NOTE);

describe('a configuration change under review (fake GitLab on 127.0.0.1, the CLI as the merge-request job runs it)', () => {
  it('one note lists exactly the requests that change and why; a second commit updates that note', async () => {
    const project = await requestProject();
    fake = project.fake;
    const { cheap, big, other } = await threeMmRequests(fake);
    const first = await fake.push(
      { [DEFAULT_CONFIG_PATH]: lowerCeilingRoundRobin },
      { branch: 'mm-policy', message: 'Lower the MM ceiling; mm/amr round-robin', as: 'harper.mgr' },
    );
    const mr = fake.openMergeRequest({ sourceBranch: 'mm-policy', title: 'MM policy', as: 'harper.mgr' });

    const run1 = await mrJob(project.env, first, mr);
    expect(run1.code).toBe(0);
    expect(run1.stderr).toBe(`merge request !${mr}: note created\n`);
    const [note] = configNotes(fake, mr);
    expect(configNotes(fake, mr)).toHaveLength(1);
    expect(note!.author).toBe('scale-bot');
    expect(note!.body).toContain(
      '3 of 6 request(s) would change: 2 would go to drew.cse instead of casey.cse (pool mm/amr now round-robin); 1 would no longer qualify (ARR of $',
    );
    const rows = (body: string) =>
      body
        .split('\n')
        .filter((l) => l.startsWith('| #'))
        .map((l) => l.split(' ')[1]);
    expect(rows(note!.body)).toEqual([`#${cheap.iid}`, `#${big.iid}`, `#${other.iid}`]);
    // main is untouched: the branch is only under review.
    expect((await runCli(['simulate', '--base', 'main', '--head', 'main'], { env: project.env })).stdout).toContain(
      'none of 6 request(s) would change',
    );

    // The reviewer asks to keep the pool as it is: the second commit keeps only the ceiling.
    const lowerCeiling = lowerCeilingRoundRobin.replace(
      '{ segment: mm, region: amr, strategy: round-robin,',
      '{ segment: mm, region: amr, strategy: least-loaded,',
    );
    const second = await fake.push(
      { [DEFAULT_CONFIG_PATH]: lowerCeiling },
      { branch: 'mm-policy', message: 'Keep mm/amr least-loaded', as: 'harper.mgr' },
    );
    const run2 = await mrJob(project.env, second, mr);
    expect(run2.stderr).toBe(`merge request !${mr}: note updated\n`);
    const notes = configNotes(fake, mr);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.id).toBe(note!.id);
    expect(rows(notes[0]!.body)).toEqual([`#${big.iid}`]);
    expect(notes[0]!.body).toContain('1 of 6 request(s) would change: 1 would no longer qualify');
    // The same commit again (a retried job): nothing to write.
    expect((await mrJob(project.env, second, mr)).stderr).toBe(`merge request !${mr}: note unchanged\n`);
    expect(fake.mergeRequestNotes(mr)).toHaveLength(1);
  });

  it('a released form version edited in place fails the job with the breaking requests first', async () => {
    const project = await requestProject();
    fake = project.fake;
    await fake.as('alex.ae').createIssue({ title: 'Contoso', description: mmRequest('Contoso', '$100k') });
    expect(v2EditedInPlace).not.toBe(bundled);
    const head = await fake.push(
      { [DEFAULT_CONFIG_PATH]: v2EditedInPlace },
      { branch: 'sa-field', message: 'Ask for the solutions architect', as: 'harper.mgr' },
    );
    const mr = fake.openMergeRequest({ sourceBranch: 'sa-field', title: 'Solutions architect', as: 'harper.mgr' });

    const run = await mrJob(project.env, head, mr);
    expect(run.code).toBe(1);
    const body = configNotes(fake, mr)[0]!.body;
    expect(body).toContain(
      '4 of 4 request(s) would change (4 breaking): 4 would report new problems to the author under the same form mm_amr v2',
    );
    const rows = body.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.slice(2).every((r) => r.startsWith('| **breaking** #'))).toBe(true);
    expect(rows.slice(2)).toHaveLength(4);
  });
});
