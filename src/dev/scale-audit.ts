import { readNoteMarker } from '../domain/bot-note-marker.js';
import type { FakeGitLab, RecordedCall } from '../fake-gitlab/server.js';

/**
 * What `bench/scale.js` checks after replicas on Redis handled a batch of requests, from what the
 * fake GitLab saw (its issues, notes, mentions and request log), not from what the bot says it did.
 * Not shipped (dist/dev is left out of the package).
 */

type Call = Pick<RecordedCall, 'method' | 'path' | 'body' | 'at' | 'tokenId'>;

const ISSUE_PATH = /^\/api\/v4\/projects\/[^/]+\/issues\/(\d+)(?:\/|$)/;
const isWrite = (call: Call) => call.method !== 'GET' && call.method !== 'HEAD';
const issueOf = (call: Call): number | null => {
  const iid = ISSUE_PATH.exec(call.path)?.[1];
  return iid === undefined ? null : Number(iid);
};

/** The most of `times` (ms) in any window of `windowMs`, sliding (stricter than GitLab's fixed windows). */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

export interface Overlap {
  iid: number;
  /** The token (one per replica process) that wrote without having read since the other's call. */
  tokenId: number | null;
  method: string;
  path: string;
  at: number;
  /** The token whose call on the issue came in between. */
  after: number | null;
}

/**
 * Passes of one issue that ran at once, as GitLab saw them. Each replica process calls with its
 * own token, and a pass reads the issue before it writes to it. So when one process's call on an
 * issue follows another process's call on it and is a write, that process read the issue before
 * the other's call arrived and wrote after it: its pass spanned the other's. Passes that only read
 * can overlap unseen; they change nothing.
 */
export function overlappingPasses(calls: readonly Call[]): Overlap[] {
  const last = new Map<number, number | null>();
  const found: Overlap[] = [];
  const ordered = [...calls].sort((a, b) => a.at - b.at);
  for (const call of ordered) {
    const iid = issueOf(call);
    if (iid === null) continue;
    const before = last.get(iid);
    if (before !== undefined && before !== call.tokenId && isWrite(call))
      found.push({ iid, tokenId: call.tokenId, method: call.method, path: call.path, at: call.at, after: before });
    last.set(iid, call.tokenId);
  }
  return found;
}

/**
 * Issues on which more than one replica process called GitLab: passes handed from one replica to
 * another (after a kill, or the next pass landing elsewhere), where an overlap could have happened.
 */
export function issuesSharedByProcesses(calls: readonly Call[]): number {
  const tokens = new Map<number, Set<number | null>>();
  for (const call of calls) {
    const iid = issueOf(call);
    if (iid === null) continue;
    const seen = tokens.get(iid) ?? new Set();
    seen.add(call.tokenId);
    tokens.set(iid, seen);
  }
  return [...tokens.values()].filter((t) => t.size > 1).length;
}

/** The bot's edits of the issue that set its assignees (one per request is right). */
export function assignmentWrites(calls: readonly Call[], iid: number): number {
  const sets = (body: unknown) => typeof body === 'object' && body !== null && 'assignee_ids' in body;
  return calls.filter((c) => c.method === 'PUT' && issueOf(c) === iid && sets(c.body)).length;
}

export interface RequestProblem {
  iid: number;
  assigned: boolean;
  requestNotes: number;
  assignees: string[];
  cseMentions: number;
  assignmentWrites: number;
}

/**
 * A request handled once: assigned, exactly one request note, one assignee, one mention of that
 * CSE, and one write that assigned it. Returns the requests that are not.
 */
export function auditRequests(fake: FakeGitLab, iids: readonly number[], assignedLabel: string): RequestProblem[] {
  const calls = fake.callsBy(fake.botUsername);
  const problems: RequestProblem[] = [];
  for (const iid of iids) {
    const issue = fake.issue(iid);
    const assignees = issue.assignees.map((a) => a.username);
    const found: RequestProblem = {
      iid,
      assigned: issue.labels.includes(assignedLabel),
      requestNotes: fake.botNotes(iid).filter((n) => readNoteMarker(n.body)?.key === 'request').length,
      assignees,
      cseMentions:
        assignees.length === 1 ? fake.mentions.filter((m) => m.iid === iid && m.username === assignees[0]).length : 0,
      assignmentWrites: assignmentWrites(calls, iid),
    };
    const once = found.requestNotes === 1 && found.cseMentions === 1 && found.assignmentWrites === 1;
    if (!found.assigned || assignees.length !== 1 || !once) problems.push(found);
  }
  return problems;
}
