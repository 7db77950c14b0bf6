import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { EngagementRecord } from '../domain/plan.js';
import type { Workload } from '../domain/route.js';

/**
 * What routing needs to know about all requests without asking GitLab on every pass: who holds how
 * many open engagements, and whom each round-robin pool chose last. A cache of GitLab's truth,
 * written after every pass and rebuilt by the reconcile sweep; never the source of a decision
 * about the issue itself.
 */
export class EngagementIndex {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly rotate: Database.Statement;

  private constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS engagements (
        project_id INTEGER NOT NULL, iid INTEGER NOT NULL, open INTEGER NOT NULL, state TEXT,
        assignee TEXT, account_key TEXT, updated_at INTEGER NOT NULL, PRIMARY KEY (project_id, iid));
      CREATE TABLE IF NOT EXISTS rotation (pool TEXT PRIMARY KEY, username TEXT NOT NULL, updated_at INTEGER NOT NULL);`);
    this.upsert = this.db.prepare(`
      INSERT INTO engagements (project_id, iid, open, state, assignee, account_key, updated_at)
      VALUES (@projectId, @iid, @open, @state, @assignee, @accountKey, @now)
      ON CONFLICT (project_id, iid) DO UPDATE SET open = excluded.open, state = excluded.state,
        assignee = excluded.assignee, account_key = excluded.account_key, updated_at = excluded.updated_at`);
    this.rotate = this.db.prepare(`
      INSERT INTO rotation (pool, username, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (pool) DO UPDATE SET username = excluded.username, updated_at = excluded.updated_at`);
  }

  static open(file: string): EngagementIndex {
    return new EngagementIndex(file);
  }

  record(projectId: number, record: EngagementRecord, now: number): void {
    this.db.transaction(() => {
      this.upsert.run({
        projectId,
        iid: record.iid,
        open: record.open ? 1 : 0,
        state: record.state,
        assignee: record.assignee?.toLowerCase() ?? null,
        accountKey: record.accountKey,
        now,
      });
      if (record.rotation) this.rotate.run(record.rotation.pool, record.rotation.username, now);
    })();
  }

  /**
   * Reads the workload, decides with it and records the decision's engagement in one immediate
   * transaction. Passes running side by side (other issues in this worker, or another process on
   * the same file) then each see the assignments the others just made: without it, a burst of new
   * requests all saw the same old load and went to one CSE past their capacity. The record is
   * written before the plan is applied; a pass that fails is retried and records again.
   * `decideWith` must be synchronous (it runs inside the transaction).
   */
  decideAndRecord<T extends { engagement: EngagementRecord | null }>(
    projectId: number,
    iid: number,
    now: number,
    decideWith: (workload: Workload) => T,
  ): { decided: T; workload: Workload } {
    return this.db
      .transaction(() => {
        const workload = this.workload(projectId, iid);
        const decided = decideWith(workload);
        if (decided.engagement) this.record(projectId, decided.engagement, now);
        return { decided, workload };
      })
      .immediate();
  }

  /** The issue is closed or gone: it no longer counts towards anyone's load. */
  markClosed(projectId: number, iid: number, now: number): void {
    this.db.prepare('UPDATE engagements SET open = 0, updated_at = ? WHERE project_id = ? AND iid = ?').run(now, projectId, iid);
  }

  /** Open engagements per assignee, excluding the issue being decided (it must not count against itself). */
  workload(projectId: number, exceptIid: number | null = null): Workload {
    const rows = this.db
      .prepare('SELECT assignee, COUNT(*) AS n FROM engagements WHERE project_id = ? AND open = 1 AND assignee IS NOT NULL AND iid IS NOT ? GROUP BY assignee')
      .all(projectId, exceptIid) as Array<{ assignee: string; n: number }>;
    const lastAssigned = this.db.prepare('SELECT pool, username FROM rotation').all() as Array<{ pool: string; username: string }>;
    return {
      open: Object.fromEntries(rows.map((r) => [r.assignee, r.n])),
      lastAssigned: Object.fromEntries(lastAssigned.map((r) => [r.pool, r.username])),
    };
  }

  close(): void {
    this.db.close();
  }
}
