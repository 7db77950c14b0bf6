import type { Config } from '../domain/config.js';
import type { EngagementRecord } from '../domain/plan.js';
import { poolKey, type Workload } from '../domain/route.js';
import { sameName } from '../domain/same-name.js';
import { OPEN_STATES } from '../domain/workflow.js';
import type { ApiIssue } from '../gitlab/api-schemas.js';
import type { Awaitable } from '../queue/inbox.js';
import type { GitLabClient } from '../gitlab/client.js';

/** How far back a pool's newest requests are read to find its last assignment. */
const POOL_LOOKBACK = 20;

/** A full read of GitLab: per issue, whom it counts against (lower case; none once closed), and each pool's last assignee. */
export interface RoutingSnapshot {
  counted: Map<number, string[]>;
  lastAssigned: Record<string, string>;
}

/**
 * What routing needs to know about all requests, as every pass reads and updates it. One interface
 * for both stores: this process's memory (`RoutingState`, the SQLite mode: one process) and Redis
 * shared by every replica (`RedisRoutingState`).
 */
export interface RoutingMemory {
  /** Reads GitLab when nothing is known yet or what is known is too old. */
  ready(): Promise<void>;
  /** When GitLab was last read in full (ms), or null before the first read. */
  loadedAt(): Awaitable<number | null>;
  /** Reads GitLab with a listing of the open issues the caller already made (the reconcile sweep). */
  seed(openIssues: ApiIssue[]): Promise<void>;
  /** Open requests per assignee (lower case), without `exceptIid` (it must not count against itself). */
  workload(exceptIid?: number | null): Awaitable<Workload>;
  /**
   * Reads the workload, decides and records the decision as one step no other pass (of any
   * replica) interleaves with, so a burst of new requests is routed as one process would route it
   * one after another. `decideWith` must be synchronous.
   */
  decideAndRecord<T extends { engagement: EngagementRecord | null }>(
    iid: number,
    decideWith: (workload: Workload) => T,
  ): Awaitable<{ decided: T; workload: Workload }>;
  /** The issue is closed or gone: it no longer counts towards anyone's load. */
  markClosed(iid: number): Awaitable<void>;
}

/** Builds the routing memory a service uses: in this process, or shared through Redis by every replica. */
export type RoutingFactory = (
  client: GitLabClient,
  config: () => Config,
  options: { maxAgeMs: number; now: () => number },
) => RoutingMemory;

/** Whom `record`'s issue counts against: its assignee while open, nobody once closed. */
export function countedOf(record: EngagementRecord): string[] {
  return record.open && record.assignee ? [record.assignee.toLowerCase()] : [];
}

/** Open requests per assignee from whom each issue counts against, without `exceptIid`. */
export function workloadOf(
  counted: Iterable<[number, string[]]>,
  lastAssigned: Record<string, string>,
  exceptIid: number | null,
): Workload {
  const open: Record<string, number> = {};
  for (const [iid, assignees] of counted) {
    if (iid === exceptIid) continue;
    for (const a of assignees) open[a] = (open[a] ?? 0) + 1;
  }
  return { open, lastAssigned: { ...lastAssigned } };
}

/**
 * Reads what routing needs from GitLab: one listing of the open issues (unless given) plus one
 * short listing per round-robin pool. The last assignment of a pool is the assignee (a member of
 * the pool) of its newest request that has one; a request assigned after a newer one (it needed
 * information first) does not move the rotation.
 */
export async function readRouting(
  client: GitLabClient,
  config: Config,
  openIssues?: ApiIssue[],
): Promise<RoutingSnapshot> {
  const [open, lastAssigned] = await Promise.all([
    openIssues ?? client.listIssues({ state: 'opened' }),
    readLastAssignments(client, config),
  ]);
  const counted = new Map<number, string[]>();
  for (const issue of open) {
    if (!isOpenEngagement(issue, config)) continue;
    counted.set(
      issue.iid,
      issue.assignees.map((a) => a.username.toLowerCase()),
    );
  }
  return { counted, lastAssigned };
}

async function readLastAssignments(client: GitLabClient, config: Config): Promise<Record<string, string>> {
  const last: Record<string, string> = {};
  const roundRobin = config.routing.pools.filter((p) => (p.strategy ?? config.routing.strategy) === 'round-robin');
  await Promise.all(
    roundRobin.map(async (pool) => {
      const labels = [config.catalog.segmentLabel(pool.segment), config.catalog.regionLabel(pool.region)];
      const newest = await client.newestIssues(labels, POOL_LOOKBACK);
      for (const issue of newest) {
        const member = issue.assignees.find((a) => pool.members.some((m) => sameName(m, a.username)));
        if (member) {
          last[poolKey(pool.segment, pool.region)] = member.username;
          return;
        }
      }
    }),
  );
  return last;
}

/**
 * The routing memory of one process (the SQLite mode, CLI jobs): derived from GitLab and kept only
 * in memory, updated by every pass of this process (its decisions are reservations on top of what
 * GitLab showed), and thrown away and read again after `maxAgeMs`. Nothing is written to disk, so
 * a fresh CI job or a restarted service routes from the same truth. Within one process every
 * assignment moves the rotation.
 */
export class RoutingState implements RoutingMemory {
  private counted = new Map<number, string[]>();
  private lastAssigned: Record<string, string> = {};
  private loadedAtMs: number | null = null;
  private loading: Promise<void> | null = null;
  /** Decisions made while a reload was under way, re-applied on top of the fresh listing. */
  private sinceLoadStarted: EngagementRecord[] = [];

  constructor(
    private readonly client: GitLabClient,
    private readonly config: () => Config,
    private readonly options: { maxAgeMs: number; now: () => number },
  ) {}

  async ready(): Promise<void> {
    const fresh = this.loadedAtMs !== null && this.options.now() - this.loadedAtMs < this.options.maxAgeMs;
    if (fresh) return;
    this.loading ??= this.load().finally(() => (this.loading = null));
    await this.loading;
  }

  loadedAt(): number | null {
    return this.loadedAtMs;
  }

  async seed(openIssues: ApiIssue[]): Promise<void> {
    this.loading ??= this.load(openIssues).finally(() => (this.loading = null));
    await this.loading;
  }

  private async load(openIssues?: ApiIssue[]): Promise<void> {
    const started = this.options.now();
    this.sinceLoadStarted = [];
    const read = await readRouting(this.client, this.config(), openIssues);
    this.counted = read.counted;
    this.lastAssigned = read.lastAssigned;
    for (const record of this.sinceLoadStarted) this.apply(record);
    this.sinceLoadStarted = [];
    this.loadedAtMs = started;
  }

  workload(exceptIid: number | null = null): Workload {
    return workloadOf(this.counted, this.lastAssigned, exceptIid);
  }

  /** One synchronous step: passes running side by side in this process each see the others' assignments. */
  decideAndRecord<T extends { engagement: EngagementRecord | null }>(
    iid: number,
    decideWith: (workload: Workload) => T,
  ): { decided: T; workload: Workload } {
    const workload = this.workload(iid);
    const decided = decideWith(workload);
    if (decided.engagement) this.record(decided.engagement);
    return { decided, workload };
  }

  record(record: EngagementRecord): void {
    this.apply(record);
    if (this.loading) this.sinceLoadStarted.push(record);
  }

  markClosed(iid: number): void {
    this.record(closedRecord(iid));
  }

  private apply(record: EngagementRecord): void {
    this.counted.set(record.iid, countedOf(record));
    if (record.rotation) this.lastAssigned[record.rotation.pool] = record.rotation.username;
  }
}

/** What a pass records for an issue that is closed or gone. */
export function closedRecord(iid: number): EngagementRecord {
  return { iid, open: false, state: null, assignee: null, accountKey: null, rotation: null };
}

/**
 * Only open engagements count, as the passes record them: an issue in an open `engagement::` state
 * (not the bot's own report and reminder issues, nor issues that are no request).
 */
export function isOpenEngagement(issue: ApiIssue, config: Config): boolean {
  const prefix = `${config.labels.engagement}::`.toLowerCase();
  const labels = issue.labels.map((l) => l.toLowerCase());
  if (labels.includes(config.labels.operations.toLowerCase())) return false;
  const state = labels.find((l) => l.startsWith(prefix))?.slice(prefix.length);
  return state !== undefined && OPEN_STATES.some((s) => s === state);
}
