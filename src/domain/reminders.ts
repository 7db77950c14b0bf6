import { TZDate } from '@date-fns/tz';
import { addDays } from 'date-fns';
import { readNoteMarker, markerKey as toMarkerKey } from './bot-note-marker.js';
import {
  businessDaysBetween,
  isBusinessDay,
  localMinutes,
  regionCalendar,
  type BusinessCalendar,
} from './business-days.js';
import type { Config } from './config.js';
import type { RequestHistory } from './request-history.js';
import { openBreaches, type Breach, type BreachKind, type ChecklistTimes } from './sla.js';

/**
 * What `scale-bot remind` sends: who hears about which service-level breach, grouped into one note
 * per person and run, each breach reminded once per person. Pure: the clock, the notes already on
 * the reminders issue and the requests are all inputs.
 *
 * Once: every posted note carries a marker whose state lists the keys it reminded
 * (`<breach key>><username>`); `sentKeys` reads them back and `planReminders` skips those.
 * Not at night: a person inside their quiet hours (or, with `businessDaysOnly`, on a weekend or
 * holiday of their calendar) is "held": reported, not sent, not marked, so a later run sends it.
 */

export interface ReminderItem {
  kind: BreachKind;
  iid: number;
  title: string;
  webUrl: string;
  /** When the service level ran out (ISO). */
  due: string;
  /** Whole business days since `due`, in the request region's calendar (0 on the first day). */
  businessDaysLate: number;
  /** One short sentence, e.g. "not accepted or declined 2 business days after assignment (due …)". */
  text: string;
  /**
   * What clears it, e.g. "accept with `@scale-bot accept` or the label …". The bot's own words:
   * commands and labels in code spans, where GitLab runs no mention or quick action.
   */
  action: string;
}

export interface ReminderMessage {
  username: string;
  /** Sorted by due. */
  items: ReminderItem[];
  /** The key of the note's marker: `reminders:<username>:<yyyymmddThhmm>` (marker-normalized). */
  markerKey: string;
  /** The reminder keys this note marks as sent, one per item. */
  keys: string[];
}

export interface HeldReminders {
  username: string;
  items: ReminderItem[];
  /** When the person's quiet time (quiet hours, weekend, holiday) ends (ISO). */
  until: string;
}

export interface ReminderPlan {
  /** Sorted by username. */
  messages: ReminderMessage[];
  /** Sorted by username. */
  held: HeldReminders[];
  /** Reminders skipped because an earlier run's note already carries their key. */
  alreadySent: number;
}

export interface ReminderRequest {
  history: RequestHistory;
  checklist: ChecklistTimes | null;
}

export interface PlanRemindersInput {
  requests: ReadonlyArray<ReminderRequest>;
  sent: ReadonlySet<string>;
  config: Config;
  now: Date;
}

/** The marker keys of reminder notes start with this. */
export const REMINDERS_MARKER_PREFIX = 'reminders:';

const lower = (s: string) => s.toLowerCase();

/** Case-insensitive de-duplication, first spelling wins; `exclude` compared case-insensitively too. */
function uniqueUsers(list: readonly string[], exclude: readonly string[] = []): string[] {
  const seen = new Set(exclude.map(lower));
  const out: string[] = [];
  for (const u of list) {
    const name = u.trim().replace(/^@/, '');
    if (name === '' || seen.has(lower(name))) continue;
    seen.add(lower(name));
    out.push(name);
  }
  return out;
}

/** The configured spelling of a username (people, pools), else as given. */
function canonical(username: string, config: Config): string {
  return config.person(username)?.username ?? username;
}

function poolOf(h: RequestHistory, config: Config) {
  return config.routing.pools.find((p) => p.segment === h.segment && p.region === h.region);
}

/** Managers responsible for the request's segment and region (an empty list in a person means all). */
function managersFor(h: RequestHistory, config: Config): string[] {
  const covers = (list: readonly string[], value: string | null) =>
    list.length === 0 || value === null || list.includes(value);
  return config.people
    .filter((p) => p.roles.includes('manager') && covers(p.segments, h.segment) && covers(p.regions, h.region))
    .map((p) => p.username);
}

/**
 * Who is reminded of a breach:
 * - accept: the assignees (the routing fallback when nobody is assigned);
 * - escalate: the pool's backup chain for the request's segment and region, then the managers
 *   covering them, de-duplicated and without the assignees (the routing fallback when that leaves
 *   nobody);
 * - follow-up: the assignees (the routing fallback when nobody is assigned);
 * - stale: the assignees, else the author.
 */
export function recipientsFor(breach: Breach, h: RequestHistory, config: Config): string[] {
  const assignees = uniqueUsers(h.assignees);
  const fallback = () => uniqueUsers(config.routing.fallback);
  let out: string[];
  switch (breach.kind) {
    case 'accept':
    case 'follow-up':
      out = assignees.length > 0 ? assignees : fallback();
      break;
    case 'escalate': {
      const chain = uniqueUsers([...(poolOf(h, config)?.backup ?? []), ...managersFor(h, config)], assignees);
      out = chain.length > 0 ? chain : uniqueUsers(config.routing.fallback, assignees);
      break;
    }
    case 'stale':
      out = assignees.length > 0 ? assignees : uniqueUsers([h.author]);
      break;
  }
  return uniqueUsers(out.map((u) => canonical(u, config)));
}

/** The key that marks one breach as reminded to one person. */
export function reminderKey(breach: Pick<Breach, 'key'>, username: string): string {
  return `${breach.key}>${lower(username)}`;
}

/** The reminder keys the given notes (on the reminders issue) already carry. */
export function sentKeys(noteBodies: readonly string[]): Set<string> {
  const keys = new Set<string>();
  for (const body of noteBodies) {
    const marker = readNoteMarker(body);
    if (!marker || !marker.key.startsWith(REMINDERS_MARKER_PREFIX)) continue;
    const sent = marker.state.sent;
    if (!Array.isArray(sent)) continue;
    for (const k of sent) if (typeof k === 'string') keys.add(k);
  }
  return keys;
}

/** A person's calendar: their first configured region's, else the configuration's default zone. */
export function personCalendar(username: string, config: Config): BusinessCalendar {
  return regionCalendar(config, config.person(username)?.regions[0] ?? null);
}

const pad = (n: number) => String(n).padStart(2, '0');

function parseClock(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Inside `[start, end)` local minutes; a window whose end is before its start wraps midnight. */
function inQuietHours(minutes: number, start: number, end: number): boolean {
  if (start === end) return false;
  return start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

/** The next local time of day `minutes` after `instant` (today's if still ahead, else tomorrow's). */
function nextLocalTime(instant: Date, minutes: number, timezone: string): Date {
  const local = new TZDate(instant.getTime(), timezone);
  let day = local;
  if (local.getHours() * 60 + local.getMinutes() >= minutes) day = addDays(local, 1);
  const at = new TZDate(
    day.getFullYear(),
    day.getMonth(),
    day.getDate(),
    Math.floor(minutes / 60),
    minutes % 60,
    timezone,
  );
  // Around a DST change the wall time may resolve to an earlier instant: always move forward.
  return new Date(at.getTime() > instant.getTime() ? at.getTime() : instant.getTime() + 60_000);
}

function nextLocalMidnight(instant: Date, timezone: string): Date {
  const next = addDays(new TZDate(instant.getTime(), timezone), 1);
  return new Date(new TZDate(next.getFullYear(), next.getMonth(), next.getDate(), timezone).getTime());
}

/**
 * When reminders may reach a person at or after `now`: `now` itself when they may, else the end of
 * their quiet time (quiet hours, then weekends and holidays when `businessDaysOnly`).
 */
export function deliverableFrom(username: string, config: Config, now: Date): Date {
  const cal = personCalendar(username, config);
  const quiet = config.reminders.quietHours;
  const start = quiet ? parseClock(quiet.start) : 0;
  const end = quiet ? parseClock(quiet.end) : 0;
  let at = now;
  // A year of days off in a row cannot happen in a valid calendar; the bound only guards the loop.
  for (let i = 0; i < 800; i++) {
    if (quiet && inQuietHours(localMinutes(at, cal.timezone), start, end)) {
      at = nextLocalTime(at, end, cal.timezone);
    } else if (config.reminders.businessDaysOnly && !isBusinessDay(at, cal)) {
      at = nextLocalMidnight(at, cal.timezone);
    } else {
      return at;
    }
  }
  return at;
}

/** `2026-11-24 16:00 America/New_York`. */
function formatLocal(iso: string, timezone: string): string {
  const d = new TZDate(new Date(iso).getTime(), timezone);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())} ${timezone}`;
}

const days = (n: number) => `${n} business day${n === 1 ? '' : 's'}`;

/** The assigned CSEs, by name and username, e.g. "Casey Kim (casey.cse)"; "nobody" when none. */
function assignedNames(h: RequestHistory, config: Config): string {
  const names = uniqueUsers(h.assignees).map((u) => {
    const p = config.person(u);
    return p?.name ? `${p.name} (${p.username})` : u;
  });
  return names.length > 0 ? names.join(', ') : 'nobody';
}

function itemText(breach: Breach, h: RequestHistory, username: string, config: Config): string {
  const due = `due ${formatLocal(breach.due, personCalendar(username, config).timezone)}`;
  const { accept, followUp, stale } = config.sla;
  switch (breach.kind) {
    case 'accept':
      return `not accepted or declined ${days(accept.days)} after assignment (${due})`;
    case 'escalate': {
      const backup = poolOf(h, config)?.backup.some((u) => lower(u) === lower(username)) ?? false;
      const role = backup ? 'the backup' : 'a manager';
      return `${assignedNames(h, config)} has not accepted or declined it ${days(accept.days + accept.escalateAfterDays)} after assignment (${due}); you are ${role} for this request`;
    }
    case 'follow-up':
      return `follow-up email not sent ${days(followUp.days)} after the call was held (${due})`;
    case 'stale':
      return `no activity by anyone for ${days(stale.days)} (${due})`;
  }
}

/** What clears a breach: the command or the label, in code spans. */
function itemAction(kind: BreachKind, config: Config): string {
  const bot = `@${config.bot.username}`;
  const label = (state: string) => `\`${config.labels.engagement}::${state}\``;
  switch (kind) {
    case 'accept':
      return `accept with \`${bot} accept\` (or the label ${label('accepted')}), or decline with \`${bot} decline <reason>\``;
    case 'escalate':
      return `have it answered, or hand it to another CSE with \`${bot} reassign @name\``;
    case 'follow-up':
      return `send the follow-up email, then tick "Follow-up email sent" in the bot's note on the request`;
    case 'stale':
      return `comment on the request with where it stands, or move it on (\`${bot} schedule <date>\`, \`${bot} complete\`)`;
  }
}

/** `20261124T2130` (UTC). */
function stamp(now: Date): string {
  return now.toISOString().slice(0, 16).replace(/[-:]/g, '');
}

const byDue = (a: ReminderItem, b: ReminderItem) =>
  a.due.localeCompare(b.due) || a.iid - b.iid || a.kind.localeCompare(b.kind);

/** The reminders to post at `now`, those held for quiet time, and how many were already sent. */
export function planReminders(input: PlanRemindersInput): ReminderPlan {
  const { requests, sent, config, now } = input;
  const byPerson = new Map<string, { username: string; entries: Array<{ item: ReminderItem; key: string }> }>();
  let alreadySent = 0;

  for (const { history: h, checklist } of requests) {
    const breaches = openBreaches(h, checklist, config, now);
    if (breaches.length === 0) continue;
    const cal = regionCalendar(config, h.region);
    for (const breach of breaches) {
      const businessDaysLate = businessDaysBetween(new Date(breach.due), now, cal);
      for (const username of recipientsFor(breach, h, config)) {
        const key = reminderKey(breach, username);
        if (sent.has(key)) {
          alreadySent++;
          continue;
        }
        const person = byPerson.get(lower(username)) ?? { username, entries: [] };
        byPerson.set(lower(username), person);
        if (person.entries.some((e) => e.key === key)) continue;
        person.entries.push({
          key,
          item: {
            kind: breach.kind,
            iid: breach.iid,
            title: breach.title,
            webUrl: breach.webUrl,
            due: breach.due,
            businessDaysLate,
            text: itemText(breach, h, username, config),
            action: itemAction(breach.kind, config),
          },
        });
      }
    }
  }

  const plan: ReminderPlan = { messages: [], held: [], alreadySent };
  const people = [...byPerson.values()].sort((a, b) =>
    lower(a.username) < lower(b.username) ? -1 : lower(a.username) > lower(b.username) ? 1 : 0,
  );
  for (const { username, entries } of people) {
    entries.sort((a, b) => byDue(a.item, b.item));
    const items = entries.map((e) => e.item);
    const from = deliverableFrom(username, config, now);
    if (from.getTime() > now.getTime()) {
      plan.held.push({ username, items, until: from.toISOString() });
      continue;
    }
    plan.messages.push({
      username,
      items,
      markerKey: toMarkerKey(`${REMINDERS_MARKER_PREFIX}${username}:${stamp(now)}`),
      keys: entries.map((e) => e.key),
    });
  }
  return plan;
}
