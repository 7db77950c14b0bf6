import { subMonths } from 'date-fns';
import pLimit from 'p-limit';
import type { Config } from '../domain/config.js';
import { decide } from '../domain/decide.js';
import { accountsAlike } from '../domain/account.js';
import { readRequest, readsAlike } from '../domain/read-request.js';
import type { ParsedRequest } from '../domain/request.js';
import { requestDiff, simulationOf, type RequestDiff, type Simulation } from '../domain/decision-diff.js';
import type { Decision } from '../domain/plan.js';
import type { Workload } from '../domain/route.js';
import { sameName } from '../domain/same-name.js';
import { isPlainIssue, type IssueSnapshot } from '../domain/snapshot.js';
import { AccountIndex } from '../gitlab/account-index.js';
import type { ApiIssue, ApiNote } from '../gitlab/api-schemas.js';
import type { GitLabClient, IssueFilter } from '../gitlab/client.js';
import { relatedOf, snapshotOf } from '../gitlab/snapshot.js';
import { isOpenEngagement, RoutingState } from '../worker/routing-state.js';

export interface SimulateOptions {
  base: Config;
  head: Config;
  /** Also the requests opened since this ISO date or time (open ones are always in). */
  since?: string;
  /** Also the `last` requests opened most recently, open or closed (open ones are always in). */
  last?: number;
  now: Date;
  botUsername: string;
}

/** Issues read at once: enough to hide GitLab's latency, few enough to be a polite client. */
const IN_FLIGHT = 16;

interface Side {
  config: Config;
  accounts: AccountIndex;
  /** The account index holds the open issues and those created since then (`intake.historyMonths`). */
  historyFrom: number;
}

/**
 * Every request in the window decided under both configurations by the same `decide()`, as of the
 * same time, writing nothing. Routing sees the load and rotations as GitLab shows them now, the same
 * for both sides: each side's routing state is read (its round-robin pools may differ) and merged.
 * `share` false: each side reads and indexes for itself even where the two configurations would do
 * it alike (tests compare that with the shared work, which must decide exactly the same).
 */
export async function runSimulate(client: GitLabClient, options: SimulateOptions, share = true): Promise<Simulation> {
  const sides = sidesOf(client, options, share);
  const { window, open } = await listOnce(client, sides, await windowOf(client, options));
  const workloadOf = await sharedWorkload(client, options, open);
  // The head reuses the base's reading of each description where it would read it alike (parsing
  // is the larger part of a decision).
  const readOnce = share && readsAlike(options.base, options.head);
  const limit = pLimit(IN_FLIGHT);
  const changed: RequestDiff[] = [];
  let total = 0;
  await Promise.all(
    window.map((_, k) =>
      limit(async () => {
        // Taken out of the window as it is decided: what is held shrinks as the run goes on.
        const issue = restored(window[k]!);
        window[k] = null;
        const notes = await client.allNotes(issue.iid);
        const [base, head] = await decisionsOf(
          client,
          { issue, notes, workload: workloadOf(issue) },
          sides,
          readOnce,
          options,
        );
        // Issues neither configuration reads as a request (the bot's own, others) are not counted.
        if (!base && !head) return;
        total++;
        // Compared at once: the decisions of 10,000 requests are never held together.
        const diff = requestDiff({ iid: issue.iid, title: issue.title, open: issue.state === 'opened', base, head });
        if (diff) changed.push(diff);
      }),
    ),
  );
  return simulationOf(total, changed);
}

/**
 * The two sides. Configurations that name accounts alike share one account index, over the longer
 * of their histories: each side still counts only its own months of it (`relatedRequests`).
 */
function sidesOf(client: GitLabClient, options: SimulateOptions, share: boolean): [Side, Side] {
  const sideOf = (config: Config): Side => ({
    config,
    accounts: new AccountIndex(client, () => options.now),
    historyFrom: subMonths(options.now, config.intake.historyMonths).getTime(),
  });
  const [base, head] = [sideOf(options.base), sideOf(options.head)];
  if (!share || !accountsAlike(options.base, options.head)) return [base, head];
  const historyFrom = Math.min(base.historyFrom, head.historyFrom);
  return [
    { ...base, historyFrom },
    { ...head, accounts: base.accounts, historyFrom },
  ];
}

/** Which issues are decided: the open ones, and those opened since a time or among the newest few. */
interface Window {
  includes: (issue: ApiIssue) => boolean;
  /** The oldest creation time the window reaches back to (null: only open issues). */
  from: number | null;
}

/** An issue of the project that may be a request (not moved away, not an incident, not the bot's own). */
function mayBeRequest(issue: ApiIssue, options: SimulateOptions): boolean {
  const own = [options.base, options.head].map((c) => c.labels.operations);
  return (
    isPlainIssue(issue.issue_type) &&
    !issue.moved_to_id &&
    !issue.labels.some((l) => own.some((label) => sameName(l, label)))
  );
}

async function windowOf(client: GitLabClient, options: SimulateOptions): Promise<Window> {
  const since = options.since === undefined ? null : Date.parse(options.since);
  const newest = new Set<number>();
  let from = since;
  if (options.last !== undefined && options.last > 0) {
    // Newest first, stopping at the last one wanted: `last` requests cost `last / 100` calls.
    pages: for await (const page of client.issuePages({ sort: 'desc' })) {
      for (const issue of page.issues) {
        if (!mayBeRequest(issue, options)) continue;
        newest.add(issue.iid);
        const created = Date.parse(issue.created_at);
        from = from === null ? created : Math.min(from, created);
        if (newest.size === options.last) break pages;
      }
    }
  }
  const includes = (issue: ApiIssue) =>
    mayBeRequest(issue, options) &&
    (issue.state === 'opened' || newest.has(issue.iid) || (since !== null && Date.parse(issue.created_at) >= since));
  return { includes, from };
}

/**
 * One listing of the project, page by page, for both configurations: each page feeds both account
 * indexes (which read only a small record of each issue) and the window's issues are kept, slimmed
 * to the fields a decision reads. Two disjoint filters cover the open issues and everything created
 * since the earliest time any side or the window reaches back to. The window's issues and all open
 * ones are kept.
 */
async function listOnce(
  client: GitLabClient,
  sides: readonly Side[],
  window: Window,
): Promise<{ window: Array<Kept | null>; open: ApiIssue[] }> {
  const from = new Date(Math.min(...sides.map((s) => s.historyFrom), window.from ?? Infinity)).toISOString();
  const filters: IssueFilter[] = [{ createdAfter: from }, { state: 'opened', createdBefore: from }];
  const seen = new Set<number>();
  const kept: Kept[] = [];
  // A shared index is filled once, under the base configuration.
  const indexing = sides.filter((side, k) => sides.findIndex((s) => s.accounts === side.accounts) === k);
  for (const filter of filters) {
    for await (const page of client.issuePages(filter)) {
      // Both filters are inclusive at `from`: an issue created at that instant is listed twice.
      const fresh = page.issues.filter((i) => !seen.has(i.iid));
      for (const issue of fresh) seen.add(issue.iid);
      for (const side of indexing)
        side.accounts.add(
          side.config,
          fresh.filter((i) => i.state === 'opened' || Date.parse(i.created_at) >= side.historyFrom),
        );
      // Every open issue counts towards routing's workload, requests or not (as RoutingState reads them).
      kept.push(...fresh.filter((i) => i.state === 'opened' || window.includes(i)).map(keep));
    }
  }
  kept.sort((a, b) => a.issue.iid - b.issue.iid);
  return {
    window: kept.filter((k) => window.includes(k.issue)),
    open: kept.map((k) => k.issue).filter((i) => i.state === 'opened'),
  };
}

/**
 * An issue kept to be decided after the listing: only the fields a decision reads (a listed issue
 * carries dozens more), and its description as UTF-8 bytes outside the JavaScript heap (a string
 * with one non-Latin-1 character, an em dash in a template, takes two bytes a character there):
 * 10,000 descriptions are most of what simulate holds.
 */
interface Kept {
  issue: ApiIssue;
  description: Buffer | null;
}

const restored = (kept: Kept): ApiIssue => ({ ...kept.issue, description: kept.description?.toString('utf8') ?? null });

function keep(issue: ApiIssue): Kept {
  return { issue: slim(issue), description: issue.description == null ? null : Buffer.from(issue.description, 'utf8') };
}

function slim(issue: ApiIssue): ApiIssue {
  return {
    id: issue.id,
    iid: issue.iid,
    title: issue.title,
    description: null,
    state: issue.state,
    author: { username: issue.author.username },
    labels: issue.labels,
    assignees: issue.assignees.map((a) => ({ username: a.username })),
    web_url: issue.web_url,
    created_at: issue.created_at,
    ...(issue.updated_at !== undefined ? { updated_at: issue.updated_at } : {}),
    closed_at: issue.closed_at ?? null,
    closed_by: issue.closed_by ? { username: issue.closed_by.username } : null,
    issue_type: issue.issue_type ?? null,
  };
}

interface IssueRead {
  issue: ApiIssue;
  notes: readonly ApiNote[];
  workload: Workload;
}

/** The issue's decision under each side; with `readOnce`, the head decides on the base's reading. */
async function decisionsOf(
  client: GitLabClient,
  read: IssueRead,
  sides: readonly [Side, Side],
  readOnce: boolean,
  options: SimulateOptions,
) {
  const snapshots = await Promise.all(
    sides.map((side) => snapshotOf(client, read.issue, read.notes, options.botUsername, side.config)),
  );
  const baseRequest = readRequest(snapshots[0]!, sides[0].config);
  const requests = [baseRequest, readOnce ? baseRequest : readRequest(snapshots[1]!, sides[1].config)];
  return sides.map((side, k) => decisionUnder(snapshots[k]!, requests[k]!, side, read.workload, options)) as [
    Decision | undefined,
    Decision | undefined,
  ];
}

function decisionUnder(
  snapshot: IssueSnapshot,
  request: ParsedRequest,
  side: Side,
  workload: Workload,
  options: SimulateOptions,
): Decision | undefined {
  const related = relatedOf(side.accounts, snapshot, request, side.config);
  return decide(
    { issue: snapshot, request, related, workload, botUsername: options.botUsername },
    side.config,
    options.now,
    // Decisions only: no note is written, so none is built.
    null,
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
