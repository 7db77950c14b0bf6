import { addBusinessDays, regionCalendar } from './business-days.js';
import type { Config } from './config.js';
import type { RequestHistory } from './request-history.js';
import type { State } from './workflow.js';

/**
 * The service levels of `sla` in the configuration, counted in business days of the request's
 * region. A breach is identified by its kind, the issue and the moment its clock started, so a
 * request assigned again starts a new clock (and a new reminder), while the same breach seen by
 * every later run stays one breach.
 */

export type BreachKind = 'accept' | 'escalate' | 'follow-up' | 'stale';

export interface Breach {
  kind: BreachKind;
  iid: number;
  title: string;
  webUrl: string;
  /** When the clock started (assignment, the call, the last activity). */
  since: string;
  /** When the service level ran out. */
  due: string;
  /** Stable across runs: `kind:iid:since`. */
  key: string;
}

/** What the bot's tracker note adds for the follow-up service level (null when not known). */
export interface ChecklistTimes {
  /** When "Call held" was first seen ticked. */
  callHeldAt: string | null;
  followUpSent: boolean;
}

const WAITING_FOR_CSE: readonly State[] = ['assigned', 'limit-reached'];
const IN_PROGRESS: readonly State[] = ['accepted', 'scheduled', 'completed'];
/**
 * The states the CSE drives after accepting (a decline waiting for its reason too), where the stale
 * service level applies. Not a request waiting on its author (needs-info: reminded, then closed, see
 * stale-requests.ts), one not qualified, or one waiting to be accepted (the accept level covers it).
 */
export const STALE_STATES: readonly State[] = [...IN_PROGRESS, 'declined'];

function due(since: string, days: number, h: RequestHistory, config: Config): string {
  return addBusinessDays(new Date(since), days, regionCalendar(config, h.region)).toISOString();
}

/** When the assigned CSE had to accept or decline, and when it escalates; null when never assigned. */
export function acceptDeadline(
  h: RequestHistory,
  config: Config,
): { since: string; due: string; escalateAt: string } | null {
  const since = h.reached.assigned ?? h.reached['limit-reached'];
  if (!since) return null;
  // Reassigned or re-routed later: the clock restarts with the current waiting state.
  const start = h.state && WAITING_FOR_CSE.includes(h.state) && h.stateSince ? h.stateSince : since;
  const { days, escalateAfterDays } = config.sla.accept;
  return {
    since: start,
    due: due(start, days, h, config),
    escalateAt: due(start, days + escalateAfterDays, h, config),
  };
}

/**
 * When an engagement in progress goes stale: `sla.stale.days` after the last thing a person did
 * on it. Null when the service level does not apply, or the request's notes were not read (the
 * bot's own writes move `updatedAt`, so only people's events measure activity).
 */
export function staleDeadline(h: RequestHistory, config: Config): { since: string; due: string } | null {
  if (!h.open || !h.state || !STALE_STATES.includes(h.state) || h.lastHumanActivity === null) return null;
  return { since: h.lastHumanActivity, due: due(h.lastHumanActivity, config.sla.stale.days, h, config) };
}

/** The service levels an open request is past at `now`. */
export function openBreaches(h: RequestHistory, checklist: ChecklistTimes | null, config: Config, now: Date): Breach[] {
  // Completed with its checklist open, or declined without a reason yet: the issue stays open and
  // still owes something. Withdrawn and closed-incomplete are only ever open until the bot's pass.
  if (!h.open || !h.form || h.state === 'withdrawn' || h.state === 'closed-incomplete') return [];
  const at = now.toISOString();
  const breaches: Breach[] = [];
  const add = (kind: BreachKind, since: string, dueAt: string) => {
    if (dueAt <= at)
      breaches.push({
        kind,
        iid: h.iid,
        title: h.title,
        webUrl: h.webUrl,
        since,
        due: dueAt,
        key: `${kind}:${h.iid}:${since}`,
      });
  };
  if (h.state && WAITING_FOR_CSE.includes(h.state)) {
    const d = acceptDeadline(h, config);
    if (d) {
      add('accept', d.since, d.due);
      add('escalate', d.since, d.escalateAt);
    }
  }
  if (h.state && IN_PROGRESS.includes(h.state) && checklist?.callHeldAt && !checklist.followUpSent) {
    add('follow-up', checklist.callHeldAt, due(checklist.callHeldAt, config.sla.followUp.days, h, config));
  }
  const stale = staleDeadline(h, config);
  if (stale) add('stale', stale.since, stale.due);
  return breaches;
}
