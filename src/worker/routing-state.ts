import type { Config } from '../domain/config.js';
import type { EngagementRecord } from '../domain/plan.js';
import { poolKey, type Workload } from '../domain/route.js';
import { sameName } from '../domain/same-name.js';
import { OPEN_STATES } from '../domain/workflow.js';
import type { ApiIssue } from '../gitlab/api-schemas.js';
import type { GitLabClient } from '../gitlab/client.js';

interface Entry {
  open: boolean;
  assignees: string[];
}

/** How far back a pool's newest requests are read to find its last assignment. */
const POOL_LOOKBACK = 20;

/**
 * What routing needs to know about all requests — who holds how many open requests, whom each
 * round-robin pool assigned last — derived from GitLab and kept only in memory: one listing of the
 * open issues plus one short listing per round-robin pool, then updated by every pass of this
 * process (its decisions are reservations on top of what GitLab showed), and thrown away and read
 * again after `maxAgeMs`. Nothing is written to disk, so a fresh CI job or a second host routes
 * from the same truth.
 *
 * The last assignment of a pool is the assignee (a member of the pool) of its newest request that
 * has one; a request assigned after a newer one (it needed information first) does not move the
 * rotation, and within one process every assignment does.
 */
export class RoutingState {
  private entries = new Map<number, Entry>();
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

  /** Reads GitLab when nothing is known yet or what is known is older than `maxAgeMs`. */
  async ready(): Promise<void> {
    const fresh = this.loadedAtMs !== null && this.options.now() - this.loadedAtMs < this.options.maxAgeMs;
    if (fresh) return;
    this.loading ??= this.load().finally(() => (this.loading = null));
    await this.loading;
  }

  /** When GitLab was last read in full (ms), or null before the first read. */
  loadedAt(): number | null {
    return this.loadedAtMs;
  }

  /** Seeds the open issues from a listing the caller already made (the reconcile sweep), saving that call. */
  async seed(openIssues: ApiIssue[]): Promise<void> {
    this.loading ??= this.load(openIssues).finally(() => (this.loading = null));
    await this.loading;
  }

  private async load(openIssues?: ApiIssue[]): Promise<void> {
    const started = this.options.now();
    this.sinceLoadStarted = [];
    const config = this.config();
    const [open, last] = await Promise.all([
      openIssues ?? this.client.listIssues({ state: 'opened' }),
      this.readLastAssignments(config),
    ]);
    const entries = new Map<number, Entry>();
    for (const issue of open) {
      if (!isOpenEngagement(issue, config)) continue;
      entries.set(issue.iid, { open: true, assignees: issue.assignees.map((a) => a.username.toLowerCase()) });
    }
    this.entries = entries;
    this.lastAssigned = last;
    for (const record of this.sinceLoadStarted) this.apply(record);
    this.sinceLoadStarted = [];
    this.loadedAtMs = started;
  }

  private async readLastAssignments(config: Config): Promise<Record<string, string>> {
    const last: Record<string, string> = {};
    const roundRobin = config.routing.pools.filter((p) => (p.strategy ?? config.routing.strategy) === 'round-robin');
    await Promise.all(
      roundRobin.map(async (pool) => {
        const labels = [config.catalog.segmentLabel(pool.segment), config.catalog.regionLabel(pool.region)];
        const newest = await this.client.newestIssues(labels, POOL_LOOKBACK);
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

  /** Open requests per assignee (lower case), without `exceptIid` (it must not count against itself). */
  workload(exceptIid: number | null = null): Workload {
    const open: Record<string, number> = {};
    for (const [iid, entry] of this.entries) {
      if (!entry.open || iid === exceptIid) continue;
      for (const a of entry.assignees) open[a] = (open[a] ?? 0) + 1;
    }
    return { open, lastAssigned: { ...this.lastAssigned } };
  }

  /**
   * Reads the workload, decides and records the decision in one synchronous step: passes running
   * side by side in this process each see the assignments the others just made, so a burst of new
   * requests does not all go to one CSE past their capacity. `decideWith` must be synchronous.
   */
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

  /** The issue is closed or gone: it no longer counts towards anyone's load. */
  markClosed(iid: number): void {
    this.record({ iid, open: false, state: null, assignee: null, accountKey: null, rotation: null });
  }

  private apply(record: EngagementRecord): void {
    this.entries.set(record.iid, {
      open: record.open,
      assignees: record.assignee ? [record.assignee.toLowerCase()] : [],
    });
    if (record.rotation) this.lastAssigned[record.rotation.pool] = record.rotation.username;
  }
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
