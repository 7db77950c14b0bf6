import type { Person, Pool, Strategy } from './config-schema.js';
import type { Config } from './config.js';
import type { ParsedRequest } from './request.js';
import { sameName } from './same-name.js';

/**
 * Routing: which CSE a request goes to. Pure and deterministic: the workload and `today`
 * (YYYY-MM-DD) are parameters, and every tie is broken by the order people are listed in.
 */

export interface Workload {
  /** Open engagements per username. */
  open: Record<string, number>;
  /** Pool key "segment/region" → username last assigned by round-robin. */
  lastAssigned: Record<string, string>;
}

export interface ExistingAssignment {
  assignees: string[];
  byHuman: boolean;
}

export type SkipReason = 'out-of-office' | 'at-capacity' | 'unknown-person';

export interface Skip {
  username: string;
  reason: SkipReason;
  detail: string;
}

export interface RouteDecision {
  assignee: string | null;
  via: 'pool' | 'backup' | 'fallback' | 'kept' | 'none';
  /** "segment/region" of the pool used; null when no pool matched. */
  pool: string | null;
  /** The strategy that chose the assignee; null when no strategy did (backup, fallback, kept, none). */
  strategy: Strategy | null;
  reason: string;
  skipped: Skip[];
}

export function poolKey(segment: string, region: string): string {
  return `${segment}/${region}`;
}

/** The absence covering `today` (YYYY-MM-DD), if any. */
export function absenceOn(person: Person, today: string): Person['outOfOffice'][number] | undefined {
  return person.outOfOffice.find((w) => w.from <= today && today <= w.to);
}

/** How many open engagements `person` may hold when routed through `pool` (null: outside any pool). */
export function capacityOf(person: Person, pool: Pool | null, config: Config): number {
  // A pool's capacity applies to its own members; anyone else (a backup) has their own or the default.
  const member = pool !== null && pool.members.some((m) => sameName(m, person.username));
  return person.capacity ?? (member ? pool.capacity : undefined) ?? config.routing.capacity;
}

class Roster {
  readonly skipped: Skip[] = [];
  private readonly open = new Map<string, number>();

  constructor(
    private readonly config: Config,
    workload: Workload,
    private readonly today: string,
  ) {
    for (const [username, count] of Object.entries(workload.open)) {
      const key = username.toLowerCase();
      this.open.set(key, (this.open.get(key) ?? 0) + count);
    }
  }

  openOf(person: Person): number {
    return this.open.get(person.username.toLowerCase()) ?? 0;
  }

  /**
   * The person behind `username` if they can take the request, else records why not. Managers
   * are never at capacity: they are the last resort and must always be able to take a request.
   */
  available(username: string, pool: Pool | null): Person | null {
    const person = this.config.person(username);
    if (!person) {
      this.skip(username, 'unknown-person', 'not in the people list of the configuration');
      return null;
    }
    const away = absenceOn(person, this.today);
    if (away) {
      this.skip(
        person.username,
        'out-of-office',
        `out of office ${away.from} to ${away.to}${away.note ? ` (${away.note})` : ''}`,
      );
      return null;
    }
    if (!person.roles.includes('manager')) {
      const capacity = capacityOf(person, pool, this.config);
      const open = this.openOf(person);
      if (open >= capacity) {
        this.skip(person.username, 'at-capacity', `${open} open engagements, capacity ${capacity}`);
        return null;
      }
    }
    return person;
  }

  /** Skips listed as "name (why)" for a reason sentence. */
  summary(): string {
    return this.skipped
      .map((s) => `${s.username} ${s.reason === 'at-capacity' ? 'at capacity' : s.reason.replace(/-/g, ' ')}`)
      .join(', ');
  }

  private skip(username: string, reason: SkipReason, detail: string): void {
    // Someone listed both as a member and as a backup is reported once.
    if (!this.skipped.some((s) => sameName(s.username, username))) this.skipped.push({ username, reason, detail });
  }
}

function chooseFromPool(
  pool: Pool,
  strategy: Strategy,
  roster: Roster,
  workload: Workload,
): { person: Person; why: string } | null {
  const key = poolKey(pool.segment, pool.region);
  const available: Array<{ index: number; person: Person }> = [];
  pool.members.forEach((m, index) => {
    const person = roster.available(m, pool);
    if (person) available.push({ index, person });
  });
  const members = available.map((a) => a.person);
  const first = available[0];
  if (first === undefined) return null;

  switch (strategy) {
    case 'primary':
      return { person: first.person, why: `primary in ${key}: ${first.person.username} is the first available member` };
    case 'round-robin': {
      const last = workload.lastAssigned[key];
      const lastIndex = last === undefined ? -1 : pool.members.findIndex((m) => sameName(m, last));
      // The first available member after the last one assigned, wrapping round to the start.
      const next = available.find((a) => a.index > lastIndex) ?? first;
      const why =
        lastIndex < 0
          ? `${next.person.username} starts the rotation (no earlier assignment known)`
          : `${next.person.username} is next after ${last}`;
      return { person: next.person, why: `round-robin in ${key}: ${why}` };
    }
    case 'least-loaded': {
      // Strictly fewer wins, so ties stay with the earlier member.
      const chosen = members.reduce((best, p) => (roster.openOf(p) < roster.openOf(best) ? p : best), first.person);
      const others = members.filter((p) => p !== chosen).map((p) => `${p.username} has ${roster.openOf(p)}`);
      const compared = others.length > 0 ? others.join(', ') : 'the only available member';
      return {
        person: chosen,
        why: `least-loaded in ${key}: ${chosen.username} has ${roster.openOf(chosen)} open (${compared})`,
      };
    }
  }
}

function walkChain(chain: string[], pool: Pool | null, roster: Roster): Person | null {
  for (const username of chain) {
    const person = roster.available(username, pool);
    if (person) return person;
  }
  return null;
}

/**
 * Who the pool's own strategy would give its next request to now (backups and fallback aside);
 * null with the reason when no member is available.
 */
export function nextInPool(
  pool: Pool,
  config: Config,
  workload: Workload,
  today: string,
): { username: string | null; reason: string } {
  const roster = new Roster(config, workload, today.slice(0, 10));
  const chosen = chooseFromPool(pool, pool.strategy ?? config.routing.strategy, roster, workload);
  return chosen
    ? { username: chosen.person.username, reason: chosen.why }
    : { username: null, reason: `no member is available (${roster.summary()})` };
}

/**
 * Chooses the assignee for a request: keeps a human's assignment; otherwise the pool for the
 * request's segment/region (its strategy, then its backup chain), or the fallback chain when no
 * pool covers it. Null assignee when everyone is unavailable: a manager must assign by hand.
 */
export function route(
  request: ParsedRequest,
  config: Config,
  workload: Workload,
  today: string,
  existing?: ExistingAssignment,
): RouteDecision {
  const kept = existing?.byHuman ? existing.assignees[0] : undefined;
  if (kept !== undefined) {
    return {
      assignee: kept,
      via: 'kept',
      pool: null,
      strategy: null,
      reason: `${kept} was assigned by a person; the bot never overrides a human's assignment`,
      skipped: [],
    };
  }

  // A timestamp would compare wrongly against the ISO dates of absences, so only its date part is used.
  const roster = new Roster(config, workload, today.slice(0, 10));
  const form = request.form;
  const pool = form
    ? config.routing.pools.find((p) => p.segment === form.segment && p.region === form.region)
    : undefined;
  if (!form || !pool)
    return fromFallback(
      form ? `no pool covers ${poolKey(form.segment, form.region)}` : 'the request template was not recognised',
      config,
      roster,
    );
  return fromPool(pool, config, roster, workload);
}

/** No pool covers the request (`where` says why): the fallback chain. */
function fromFallback(where: string, config: Config, roster: Roster): RouteDecision {
  const person = walkChain(config.routing.fallback, null, roster);
  const skippedNote = roster.skipped.length > 0 ? ` (skipped: ${roster.summary()})` : '';
  if (person) {
    return {
      assignee: person.username,
      via: 'fallback',
      pool: null,
      strategy: null,
      reason: `${where}; assigned to ${person.username} from the fallback list${skippedNote}`,
      skipped: roster.skipped,
    };
  }
  return {
    assignee: null,
    via: 'none',
    pool: null,
    strategy: null,
    reason: `${where} and nobody on the fallback list is available (${roster.summary()}); a manager must assign this request by hand`,
    skipped: roster.skipped,
  };
}

/** The pool's strategy chooses among its members; failing that, its backup chain. */
function fromPool(pool: Pool, config: Config, roster: Roster, workload: Workload): RouteDecision {
  const key = poolKey(pool.segment, pool.region);
  const strategy = pool.strategy ?? config.routing.strategy;
  const chosen = chooseFromPool(pool, strategy, roster, workload);
  if (chosen) {
    return {
      assignee: chosen.person.username,
      via: 'pool',
      pool: key,
      strategy,
      reason: chosen.why,
      skipped: roster.skipped,
    };
  }
  const membersSkipped = roster.summary();
  const backup = walkChain(pool.backup, pool, roster);
  if (backup) {
    return {
      assignee: backup.username,
      via: 'backup',
      pool: key,
      strategy: null,
      reason: `no member of ${key} is available (${membersSkipped}); assigned to backup ${backup.username}`,
      skipped: roster.skipped,
    };
  }
  return {
    assignee: null,
    via: 'none',
    pool: key,
    strategy: null,
    reason: `nobody in ${key} or its backup chain is available (${roster.summary()}); a manager must assign this request by hand`,
    skipped: roster.skipped,
  };
}
