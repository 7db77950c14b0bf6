import pLimit from 'p-limit';
import type { Config } from '../domain/config.js';
import { decide, type RenderNote } from '../domain/decide.js';
import { readRequest } from '../domain/read-request.js';
import { simulate, type RequestUnderBoth, type Simulation } from '../domain/decision-diff.js';
import type { Workload } from '../domain/route.js';
import { isPlainIssue } from '../domain/snapshot.js';
import { AccountIndex } from '../gitlab/account-index.js';
import type { ApiIssue } from '../gitlab/api-schemas.js';
import type { GitLabClient } from '../gitlab/client.js';
import { relatedOf, snapshotOf } from '../gitlab/snapshot.js';
import { isOpenEngagement, RoutingState } from '../worker/routing-state.js';

export interface SimulateOptions {
  base: Config;
  head: Config;
  /** Also the requests opened since this ISO date or time (open ones are always in). */
  since?: string;
  now: Date;
  botUsername: string;
}

/** simulate compares decisions, never note bodies: rendering them would be wasted work (a third of the CPU at 10,000 requests). */
const NO_NOTES: RenderNote = () => '';

/** Issues read at once: enough to hide GitLab's latency, few enough to be a polite client. */
const IN_FLIGHT = 16;

/**
 * Every request in the window decided under both configurations by the same `decide()`, as of the
 * same time, writing nothing. Routing sees the load and rotations as GitLab shows them now, the same
 * for both sides: each side's routing state is read (its round-robin pools may differ) and merged.
 */
export async function runSimulate(client: GitLabClient, options: SimulateOptions): Promise<Simulation> {
  const open = await client.listIssues({ state: 'opened' });
  const opened = options.since ? await client.listIssues({ createdAfter: options.since }) : [];
  const issues = [...new Map([...open, ...opened].map((i) => [i.iid, i])).values()]
    .filter((i) => isPlainIssue(i.issue_type) && !i.moved_to_id)
    .sort((a, b) => a.iid - b.iid);
  const workloadOf = await sharedWorkload(client, options, open);
  const sides = [options.base, options.head].map((config) => ({
    config,
    accounts: new AccountIndex(client, () => options.now),
  }));
  // Each side's index reads accounts its own way; both are built once, before any request is decided.
  await Promise.all(sides.map((side) => side.accounts.prepare(side.config)));
  const limit = pLimit(IN_FLIGHT);
  const decided = await Promise.all(
    issues.map((issue) =>
      limit(async (): Promise<RequestUnderBoth> => {
        const notes = await client.allNotes(issue.iid);
        const workload = workloadOf(issue);
        const [base, head] = await Promise.all(
          sides.map((side) => decisionUnder(client, issue, notes, side, workload, options)),
        );
        return { iid: issue.iid, title: issue.title, open: issue.state === 'opened', base, head };
      }),
    ),
  );
  // Issues neither configuration reads as a request (the bot's own, others) are not counted.
  return simulate(decided.filter((r) => r.base || r.head));
}

async function decisionUnder(
  client: GitLabClient,
  issue: ApiIssue,
  notes: Parameters<typeof snapshotOf>[2],
  side: { config: Config; accounts: AccountIndex },
  workload: Workload,
  options: SimulateOptions,
) {
  const snapshot = await snapshotOf(client, issue, notes, options.botUsername, side.config);
  const request = readRequest(snapshot, side.config);
  const related = relatedOf(side.accounts, snapshot, request, side.config);
  return decide(
    { issue: snapshot, request, related, workload, botUsername: options.botUsername },
    side.config,
    options.now,
    NO_NOTES,
  ).decision;
}

/**
 * Open requests per CSE and each round-robin pool's last assignment, from GitLab, for both sides:
 * counted once, then each request's own assignment taken out (it must not count against itself),
 * as `RoutingState#workload(iid)` does without walking every request for each one.
 */
async function sharedWorkload(
  client: GitLabClient,
  options: SimulateOptions,
  open: ApiIssue[],
): Promise<(issue: ApiIssue) => Workload> {
  const states = [options.base, options.head].map(
    (config) =>
      new RoutingState(client, () => config, { maxAgeMs: Number.POSITIVE_INFINITY, now: () => options.now.getTime() }),
  );
  await Promise.all(states.map((s) => s.seed(open)));
  const [base, head] = states.map((s) => s.workload()) as [Workload, Workload];
  const all: Workload = { open: head.open, lastAssigned: { ...base.lastAssigned, ...head.lastAssigned } };
  return (issue) => {
    if (issue.state !== 'opened' || !isOpenEngagement(issue, options.head)) return all;
    const own = { ...all.open };
    for (const a of issue.assignees) own[a.username.toLowerCase()]! -= 1;
    return { ...all, open: own };
  };
}
