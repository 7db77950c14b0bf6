import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assignmentWrites,
  auditRequests,
  busiestWindow,
  issuesSharedByProcesses,
  overlappingPasses,
} from '../../src/dev/scale-audit.js';
import { noteMarker } from '../../src/domain/bot-note-marker.js';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';

const issue = (iid: number, rest = '') => `/api/v4/projects/1/issues/${iid}${rest}`;
const call = (tokenId: number, at: number, method: string, path: string, body?: unknown) => ({
  tokenId,
  at,
  method,
  path,
  body,
});
/** One pass as the bot makes it: the issue and its notes read at once, then the writes. */
const pass = (tokenId: number, at: number, iid: number) => [
  call(tokenId, at, 'GET', issue(iid)),
  call(tokenId, at + 1, 'GET', issue(iid, '/notes')),
  call(tokenId, at + 5, 'PUT', issue(iid), { assignee_ids: [7] }),
  call(tokenId, at + 6, 'POST', issue(iid, '/notes'), { body: 'x' }),
];

describe('busiestWindow', () => {
  it('counts the most times within any window, whatever their order', () => {
    expect(busiestWindow([], 60_000)).toBe(0);
    expect(busiestWindow([59_999, 0, 30_000, 60_000, 61_000], 60_000)).toBe(4);
    expect(busiestWindow([0, 60_000, 120_000], 60_000)).toBe(1);
  });
});

describe('overlappingPasses', () => {
  it('finds none when passes of one issue follow each other, on one replica or several', () => {
    const calls = [...pass(1, 0, 5), ...pass(2, 100, 5), ...pass(1, 200, 5), ...pass(3, 50, 6)];
    expect(overlappingPasses(calls)).toEqual([]);
  });

  it("finds a pass that wrote after another replica's pass of the same issue had begun", () => {
    const calls = [...pass(1, 0, 5), ...pass(2, 2, 5)];
    expect(overlappingPasses(calls)).toEqual([
      expect.objectContaining({ iid: 5, tokenId: 1, method: 'PUT', after: 2 }),
      expect.objectContaining({ iid: 5, tokenId: 2, method: 'PUT', after: 1 }),
    ]);
  });

  it('ignores calls not about one issue (searches, users) and passes that only read', () => {
    const calls = [
      call(1, 0, 'GET', issue(5)),
      call(2, 1, 'GET', '/api/v4/projects/1/issues'),
      call(2, 2, 'GET', '/api/v4/users'),
      call(2, 3, 'GET', issue(5, '/notes')),
      call(1, 4, 'GET', issue(5, '/notes')),
    ];
    expect(overlappingPasses(calls)).toEqual([]);
  });
});

describe('issuesSharedByProcesses', () => {
  it('counts the issues more than one process called about', () => {
    const calls = [...pass(1, 0, 5), ...pass(2, 100, 5), ...pass(1, 0, 6), ...pass(1, 50, 6), ...pass(3, 0, 7)];
    expect(issuesSharedByProcesses([...calls, call(2, 9, 'GET', '/api/v4/projects/1/issues')])).toBe(1);
  });
});

describe('assignmentWrites', () => {
  it("counts the bot's edits of that issue that set assignees", () => {
    const calls = [
      ...pass(1, 0, 5),
      ...pass(2, 100, 5),
      call(1, 200, 'PUT', issue(5), { add_labels: 'x' }),
      ...pass(1, 300, 6),
    ];
    expect(assignmentWrites(calls, 5)).toBe(2);
    expect(assignmentWrites(calls, 6)).toBe(1);
  });
});

describe('auditRequests', () => {
  let fake: FakeGitLab;
  beforeEach(async () => {
    fake = await startFakeGitLab({ labels: ['engagement::assigned'] });
  });
  afterEach(async () => {
    await fake.stop();
  });

  const api = (path: string, method: string, body: object) =>
    fetch(`${fake.apiUrl}${path}`, {
      method,
      headers: { 'PRIVATE-TOKEN': fake.botToken, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const requestNote = `${noteMarker('request')}\n@casey.cse is the CSE.`;

  it('passes a request assigned once with one request note mentioning the CSE, and names each other kind', async () => {
    const ok = (await fake.as('alex.ae').createIssue({ title: 'A', description: 'x' })).iid;
    const twice = (await fake.as('alex.ae').createIssue({ title: 'B', description: 'x' })).iid;
    const open = (await fake.as('alex.ae').createIssue({ title: 'C', description: 'x' })).iid;
    const casey = fake.addUser('casey.cse').id;
    for (const iid of [ok, twice]) {
      await api(`/projects/1/issues/${iid}`, 'PUT', { add_labels: 'engagement::assigned', assignee_ids: [casey] });
      await api(`/projects/1/issues/${iid}/notes`, 'POST', { body: requestNote });
    }
    await api(`/projects/1/issues/${twice}`, 'PUT', { assignee_ids: [casey] });
    expect(auditRequests(fake, [ok, twice, open], 'engagement::assigned')).toEqual([
      { iid: twice, assigned: true, requestNotes: 1, assignees: ['casey.cse'], cseMentions: 1, assignmentWrites: 2 },
      { iid: open, assigned: false, requestNotes: 0, assignees: [], cseMentions: 0, assignmentWrites: 0 },
    ]);
  });
});
