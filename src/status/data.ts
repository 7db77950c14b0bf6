import { subWeeks } from 'date-fns';
import { analyzeParsed, type RequestAnalysis } from '../domain/analyze.js';
import type { Config } from '../domain/config.js';
import { decide, type RenderNote } from '../domain/decide.js';
import type { Plan } from '../domain/plan.js';
import { readRequest } from '../domain/read-request.js';
import type { RequestHistory } from '../domain/request-history.js';
import type { AccountIndex } from '../gitlab/account-index.js';
import type { GitLabClient } from '../gitlab/client.js';
import type { PaceLimits } from '../gitlab/pacing.js';
import type { GitLabRateLimit } from '../gitlab/requester.js';
import { loadSnapshot, relatedOf } from '../gitlab/snapshot.js';
import { loadRequests } from '../jobs/load-requests.js';
import type { Inbox, Job } from '../queue/inbox.js';
import type { CatchUpSweep } from '../queue/refusal-catch-up.js';
import type { RoutingMemory } from '../worker/routing-state.js';

/** How long the request listing is reused between page views: enough for a few people clicking around. */
const REQUESTS_MAX_AGE_MS = 60_000;
/** The weekly chart's span. */
export const CHART_WEEKS = 8;

export interface StatusSources {
  /** The configuration in use now (it may change while the service runs). */
  readonly config: Config;
  /** Which configuration is in use and any version refused (ConfigSource.status). */
  configStatus: () => string;
  client: GitLabClient;
  accounts: AccountIndex;
  routing: RoutingMemory;
  inbox: Inbox;
  botUsername: () => string;
  render: RenderNote;
  now: () => Date;
  /** GitLab's `RateLimit-*` headers as the requester last saw them. */
  rateLimit: () => GitLabRateLimit | null;
  /** The bot's own pacing budgets. */
  pacing: PaceLimits;
  /** This service's last catch-up sweep after refused deliveries. */
  catchUp: () => CatchUpSweep | null;
  /** Where GitLab lists the project's pipeline schedules, the scheduled reconcile sweep's among them. */
  schedulesUrl: () => string;
  scheduledSweep: ScheduledSweep;
}

/**
 * Where the scheduled reconcile sweep runs: a CI job (the SQLite mode; this service does not see
 * it), or the replicas on Redis themselves every few minutes (0: switched off).
 */
export type ScheduledSweep = { runs: 'in-ci' } | { runs: 'in-service'; everyMinutes: number };

export interface WhyModel {
  iid: number;
  title: string;
  url: string;
  /** What a pass would write now, and why (decide's own plan, not applied). */
  plan: Plan;
  /** Fields, problems, gates and signals, priority, and routing with whom it passed over. */
  analysis: RequestAnalysis;
}

export interface BotModel {
  depth: Record<string, number>;
  oldestPending: Job | null;
  deadLetters: Job[];
  /** When the routing state was last read from GitLab in full (the service's own sweep of open issues). */
  routingReadAt: number | null;
  configuration: string;
  rateLimit: GitLabRateLimit | null;
  pacing: StatusSources['pacing'];
  catchUp: CatchUpSweep | null;
  schedulesUrl: string;
  scheduledSweep: ScheduledSweep;
}

const noProgress = { total: () => undefined, advance: () => undefined, done: () => undefined };

/** Reads what the page shows from GitLab and the inbox, read-only. */
export class StatusData {
  private cached: { at: number; histories: Promise<RequestHistory[]> } | null = null;

  constructor(private readonly sources: StatusSources) {}

  /** Open requests plus those touched in the chart's weeks, one listing shared by all viewers for a minute. */
  histories(): Promise<RequestHistory[]> {
    const now = this.sources.now();
    if (this.cached && now.getTime() - this.cached.at < REQUESTS_MAX_AGE_MS) return this.cached.histories;
    const { client, config } = this.sources;
    const since = subWeeks(now, CHART_WEEKS).toISOString();
    const histories = loadRequests(client, [{ state: 'opened' }, { updatedAfter: since }], {
      config,
      today: now.toISOString().slice(0, 10),
      progress: noProgress,
    }).then((loaded) => loaded.map((r) => r.history));
    this.cached = { at: now.getTime(), histories };
    // A failed read is not kept: the next view tries again.
    histories.catch(() => (this.cached = null));
    return histories;
  }

  /** The decision a pass would make now, computed by the same decide() and applied nowhere. */
  async why(iid: number): Promise<WhyModel> {
    const { client, config, routing, render, accounts } = this.sources;
    // As a pass reads them: the issue, and the account index brought up to date beside it.
    const [snapshot] = await Promise.all([
      loadSnapshot(client, iid, this.sources.botUsername(), config),
      accounts.prepare(config),
    ]);
    const request = readRequest(snapshot, config);
    const related = relatedOf(accounts, snapshot, request, config);
    await routing.ready();
    const workload = await routing.workload(iid);
    const now = this.sources.now();
    const plan = decide(
      { issue: snapshot, request, related, workload, botUsername: this.sources.botUsername() },
      config,
      now,
      render,
    );
    const analysis = analyzeParsed(request, snapshot.author, config, now.toISOString().slice(0, 10), workload);
    return { iid, title: snapshot.title, url: snapshot.webUrl, plan, analysis };
  }

  async bot(): Promise<BotModel> {
    const { inbox, routing } = this.sources;
    return {
      depth: await inbox.depth(),
      oldestPending: await inbox.oldestPending(),
      deadLetters: await inbox.list({ failed: true, limit: 50 }),
      routingReadAt: await routing.loadedAt(),
      configuration: this.sources.configStatus(),
      rateLimit: this.sources.rateLimit(),
      pacing: this.sources.pacing,
      catchUp: this.sources.catchUp(),
      schedulesUrl: this.sources.schedulesUrl(),
      scheduledSweep: this.sources.scheduledSweep,
    };
  }
}
