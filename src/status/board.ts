import { subWeeks } from 'date-fns';
import { businessDaysBetween, regionCalendar } from '../domain/business-days.js';
import type { Config } from '../domain/config.js';
import { isoWeekLabel } from '../domain/report-period.js';
import type { RequestHistory } from '../domain/request-history.js';
import { absenceOn, capacityOf, nextInPool, poolKey, type Workload } from '../domain/route.js';
import { sameName } from '../domain/same-name.js';
import { acceptDeadline, openBreaches, type BreachKind } from '../domain/sla.js';

/**
 * What the status page shows, as plain data from the domain's own rules (capacity, absences,
 * each pool's strategy, business days, service levels): no clock, no I/O; `now` is a parameter.
 */

export interface TeamRow {
  username: string;
  name: string;
  open: number;
  capacity: number;
  atCapacity: boolean;
  /** "from to to (note)" while out of office today; null otherwise. */
  away: string | null;
}

export interface PoolRow {
  pool: string;
  strategy: string;
  next: string | null;
  reason: string;
}

export interface RequestRow {
  iid: number;
  title: string;
  url: string;
  state: string;
  segment: string | null;
  region: string | null;
  assignees: string[];
  /** Business days of the request's region since it was opened. */
  ageBusinessDays: number;
  /** When the assigned CSE must accept by (waiting requests only). */
  acceptDue: string | null;
  breaches: BreachKind[];
}

export interface RequestFilter {
  segment?: string | undefined;
  region?: string | undefined;
  state?: string | undefined;
  cse?: string | undefined;
}

const today = (now: Date) => now.toISOString().slice(0, 10);

/** Every CSE with their open engagements against capacity (the capacity of the first pool they serve in). */
export function teamRows(config: Config, workload: Workload, now: Date): TeamRow[] {
  const open = (username: string) =>
    Object.entries(workload.open).reduce((n, [u, c]) => (sameName(u, username) ? n + c : n), 0);
  return config.people
    .filter((p) => p.roles.includes('cse'))
    .map((person) => {
      const pool = config.routing.pools.find((p) => p.members.some((m) => sameName(m, person.username))) ?? null;
      const capacity = capacityOf(person, pool, config);
      const away = absenceOn(person, today(now));
      const count = open(person.username);
      return {
        username: person.username,
        name: person.name ?? person.username,
        open: count,
        capacity,
        atCapacity: count >= capacity,
        away: away ? `${away.from} to ${away.to}${away.note ? ` (${away.note})` : ''}` : null,
      };
    });
}

/** Who each pool would give its next request to now. */
export function poolRows(config: Config, workload: Workload, now: Date): PoolRow[] {
  return config.routing.pools.map((pool) => {
    const next = nextInPool(pool, config, workload, today(now));
    return {
      pool: poolKey(pool.segment, pool.region),
      strategy: pool.strategy ?? config.routing.strategy,
      next: next.username,
      reason: next.reason,
    };
  });
}

/** Open requests, oldest first. The follow-up service level needs the tracker note, so it is not shown here. */
export function requestRows(histories: readonly RequestHistory[], config: Config, now: Date): RequestRow[] {
  return histories
    .filter((h) => h.open && h.form)
    .map((h) => {
      const waiting = h.state === 'assigned' || h.state === 'limit-reached';
      return {
        iid: h.iid,
        title: h.title,
        url: h.webUrl,
        state: h.state ?? 'none',
        segment: h.segment,
        region: h.region,
        assignees: h.assignees,
        ageBusinessDays: businessDaysBetween(new Date(h.createdAt), now, regionCalendar(config, h.region)),
        acceptDue: waiting ? (acceptDeadline(h, config)?.due ?? null) : null,
        breaches: openBreaches(h, null, config, now).map((b) => b.kind),
      };
    })
    .sort((a, b) => b.ageBusinessDays - a.ageBusinessDays || a.iid - b.iid);
}

export function filterRows(rows: readonly RequestRow[], filter: RequestFilter): RequestRow[] {
  return rows.filter(
    (r) =>
      (!filter.segment || r.segment === filter.segment) &&
      (!filter.region || r.region === filter.region) &&
      (!filter.state || r.state === filter.state) &&
      (!filter.cse || r.assignees.some((a) => sameName(a, filter.cse!))),
  );
}

/** Requests opened in each of the last `weeks` ISO weeks (this one included), oldest first. */
export function weeklyOpened(
  histories: readonly RequestHistory[],
  now: Date,
  weeks = 8,
): Array<{ label: string; count: number }> {
  const labels = Array.from({ length: weeks }, (_, i) => isoWeekLabel(subWeeks(now, weeks - 1 - i)));
  const counts = new Map(labels.map((l) => [l, 0]));
  for (const h of histories) {
    if (!h.form) continue;
    const label = isoWeekLabel(new Date(h.createdAt));
    if (counts.has(label)) counts.set(label, counts.get(label)! + 1);
  }
  return labels.map((label) => ({ label, count: counts.get(label)! }));
}
