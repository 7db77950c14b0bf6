import { subMonths } from 'date-fns';
import { requestAccount } from '../domain/account.js';
import type { Config } from '../domain/config.js';
import { readRequest } from '../domain/read-request.js';
import type { RelatedIssue } from '../domain/snapshot.js';
import { textDigest } from '../domain/text-digest.js';
import type { ApiIssue } from './api-schemas.js';
import type { GitLabClient } from './client.js';

interface Entry {
  issue: RelatedIssue;
  updatedAt: string;
  /** What the account was read from: the description's digest and the labels parse looks at. */
  source: string;
}

/** Re-read this far behind the newest change seen: a write committed late still shows. */
const OVERLAP_MS = 2_000;
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * A copy of the text that shares no memory with the description it was read from: V8 makes a
 * substring a slice of its parent, so an account id kept as read would keep its whole description
 * (pasted notes included) alive for as long as the index holds the account.
 */
const detached = (text: string | null) => (text === null ? null : Buffer.from(text, 'utf8').toString('utf8'));

/**
 * Which requests name which account, for the duplicate and engagement-limit checks, built from
 * ordinary issue listings instead of searches (GitLab allows 30 searches a minute but 2,000
 * requests; DESIGN §4). Built once from the open issues and those created within `historyMonths`,
 * then brought up to date before every lookup with the issues updated since the last look (one
 * listing call, usually one short page). Each description is parsed once per digest: a pass costs
 * the same however many requests an account has. A cache GitLab can always rebuild.
 */
export class AccountIndex {
  private entries = new Map<number, Entry>();
  /** The iids naming each account: a lookup reads its own few, not every entry (simulate looks up 10,000). */
  private byAccount = new Map<string, Set<number>>();
  private cursor: string | null = null;
  private config: Config | null = null;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** Descriptions parsed so far (for tests and metrics: the work a lookup costs). */
  parses = 0;

  constructor(
    private readonly client: GitLabClient,
    private readonly now: () => Date,
  ) {}

  /**
   * Brings the index up to date with every change made before this call (built on first use). A
   * pass calls it beside loading its issue, so the lookup costs no extra round trip.
   */
  async prepare(config: Config): Promise<void> {
    if (config !== this.config) this.reset(config);
    await this.refresh();
  }

  /**
   * Adds issues the caller listed instead of listing them here (simulate lists the project once, page
   * by page, for the indexes of two configurations); a later `prepare` goes on from the newest.
   */
  add(config: Config, issues: Iterable<ApiIssue>): void {
    if (config !== this.config) this.reset(config);
    for (const issue of issues) this.upsert(issue, config);
  }

  /** The other requests about this account, as of the last `prepare` (or `add`). */
  related(account: string, iid: number): RelatedIssue[] {
    return [...(this.byAccount.get(account) ?? [])].filter((i) => i !== iid).map((i) => this.entries.get(i)!.issue);
  }

  /** An issue deleted (no listing reports it). */
  forget(iid: number): void {
    this.unlink(iid);
    this.entries.delete(iid);
  }

  private unlink(iid: number): void {
    const account = this.entries.get(iid)?.issue.account;
    if (account) this.byAccount.get(account)?.delete(iid);
  }

  /** Another configuration reads accounts differently: start over. */
  private reset(config: Config): void {
    this.config = config;
    this.entries = new Map();
    this.byAccount = new Map();
    this.cursor = null;
  }

  /**
   * A lookup must see every change made before it asked: it joins a refresh that has not started
   * yet, or queues one behind the one running (so concurrent passes share at most two calls).
   */
  private refresh(): Promise<void> {
    if (this.queued) return this.queued;
    const start = () => {
      this.queued = null;
      const run = this.sync().finally(() => {
        if (this.running === run) this.running = null;
      });
      this.running = run;
      return run;
    };
    if (!this.running) return start();
    this.queued = this.running.catch(() => undefined).then(start);
    return this.queued;
  }

  private async sync(): Promise<void> {
    const config = this.config!;
    const issues =
      this.cursor === null
        ? [
            ...(await this.client.listIssues({ state: 'opened' })),
            ...(await this.client.listIssues({
              createdAfter: subMonths(this.now(), config.intake.historyMonths).toISOString(),
            })),
          ]
        : await this.client.listIssues({ updatedAfter: new Date(Date.parse(this.cursor) - OVERLAP_MS).toISOString() });
    if (config !== this.config) return;
    for (const issue of issues) this.upsert(issue, config);
    // No issue yet to take GitLab's time from: our clock, with room for some skew.
    this.cursor ??= new Date(this.now().getTime() - CLOCK_SKEW_MS).toISOString();
  }

  private upsert(issue: ApiIssue, config: Config): void {
    const updatedAt = issue.updated_at ?? issue.created_at;
    if (this.cursor === null || updatedAt > this.cursor) this.cursor = updatedAt;
    const known = this.entries.get(issue.iid);
    if (known && known.updatedAt === updatedAt) return;
    // Parse only looks at the segment and region labels (to recognise a form whose marker is gone).
    const scoped = [`${config.labels.segment}::`, `${config.labels.region}::`].map((p) => p.toLowerCase());
    const formLabels = issue.labels.filter((l) => scoped.some((p) => l.toLowerCase().startsWith(p)));
    const description = issue.description ?? '';
    const source = `${textDigest(description)}|${formLabels.sort().join(',')}`;
    let account = known?.source === source ? known.issue.account : undefined;
    if (account === undefined) {
      this.parses++;
      account = detached(requestAccount(readRequest({ description, labels: formLabels }, config), config));
    }
    const related: RelatedIssue = {
      iid: issue.iid,
      title: issue.title,
      account,
      state: issue.state,
      labels: issue.labels,
      webUrl: issue.web_url,
      createdAt: issue.created_at,
    };
    this.unlink(issue.iid);
    if (account) this.byAccount.set(account, (this.byAccount.get(account) ?? new Set()).add(issue.iid));
    this.entries.set(issue.iid, { issue: related, updatedAt, source });
  }
}
