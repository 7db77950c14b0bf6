import type { TimelineEntry } from './lifecycle.js';
import { sameName } from './same-name.js';
import type { LabelEvent } from './snapshot.js';
import { STATES, type State } from './workflow.js';

/**
 * The transitions a request really went through: the one timeline the report and the SLA
 * reminders both read. The bot's own record (the `timeline` in its request note's marker: what
 * `decide()` accepted) is the truth; GitLab's label history is only the way to rebuild it when
 * there is no record (no note, or a note from before the bot kept one).
 *
 * Rebuilding: a person's move the bot refused shows in the label history as the person's add
 * followed by the bot's add of another state (the revert). So the person's adds since the bot's
 * previous add wait for the bot's next add of an engagement state:
 * - the bot put back the state before them: all of them were refused;
 * - the bot put back one of the states they moved to: the moves up to that one stood, the later
 *   ones were refused;
 * - the bot moved to a state of its own (closed by hand, a command, intake): their moves stood,
 *   then the bot's.
 * Moves the bot has not judged yet (no later bot add) stand. Events are taken in time order
 * (then by id), whatever order they came in, and a state entered again right after itself (a
 * replayed or duplicated event) is not a new transition.
 */

export interface TimelineSources {
  /** The timeline in the bot's request note's marker; null without a note or without a timeline in it. */
  recorded: readonly unknown[] | null;
  /** The label events in any order; null when not loaded. */
  labelEvents: readonly LabelEvent[] | null;
  /** The scope of the state labels (`engagement`). */
  scope: string;
  botUsername: string;
}

function isState(s: unknown): s is State {
  return typeof s === 'string' && (STATES as readonly string[]).includes(s);
}

/** A recorded entry as the marker holds it; anything else (a damaged marker) is left out. */
function entryOf(raw: unknown): TimelineEntry | null {
  if (!raw || typeof raw !== 'object') return null;
  const { state, at, by } = raw as Record<string, unknown>;
  if (!isState(state) || typeof at !== 'string' || Number.isNaN(Date.parse(at))) return null;
  return { state, at, by: typeof by === 'string' ? by : 'someone' };
}

/** Appends unless the request is already in that state. */
function push(timeline: TimelineEntry[], entry: TimelineEntry): void {
  if (timeline.at(-1)?.state !== entry.state) timeline.push(entry);
}

const byTime = (a: { at: string }, b: { at: string }) => Date.parse(a.at) - Date.parse(b.at);

export function effectiveTimeline(sources: TimelineSources): TimelineEntry[] {
  const recorded = (sources.recorded ?? []).map(entryOf).filter((e): e is TimelineEntry => e !== null);
  if (recorded.length > 0) {
    const timeline: TimelineEntry[] = [];
    // A stable sort: entries recorded at the same instant keep the bot's order.
    for (const e of [...recorded].sort(byTime)) push(timeline, e);
    return timeline;
  }
  // A copy: the rebuilt one is kept for the next question about the same events.
  return [...timelineFromLabels(sources).timeline];
}

/** The state adds of the label history, oldest first. */
function stateAdds(sources: TimelineSources): Array<TimelineEntry & { bot: boolean }> {
  const prefix = `${sources.scope}::`.toLowerCase();
  return (sources.labelEvents ?? [])
    .filter((e) => e.action === 'add' && e.label !== null && e.label.toLowerCase().startsWith(prefix))
    .map((e) => ({ e, state: e.label!.slice(prefix.length).toLowerCase() }))
    .filter((x): x is { e: LabelEvent; state: State } => isState(x.state))
    .sort((a, b) => byTime({ at: a.e.createdAt }, { at: b.e.createdAt }) || a.e.id - b.e.id)
    .map(({ e, state }) => ({
      state,
      at: e.createdAt,
      by: e.user ?? 'someone',
      bot: sameName(e.user, sources.botUsername),
    }));
}

type Rebuilt = { timeline: TimelineEntry[]; refused: number };

/**
 * Rebuilt timelines by label history: the jobs first ask whether a history has refused moves (to
 * know whether to read the notes), then for the timeline of the same events; rebuilt once.
 */
const rebuiltOf = new WeakMap<readonly LabelEvent[], { scope: string; botUsername: string; rebuilt: Rebuilt }>();

/** The rebuilt timeline, and how many moves in it the bot refused. */
function timelineFromLabels(sources: TimelineSources): Rebuilt {
  const events = sources.labelEvents;
  if (!events) return rebuild(sources);
  const known = rebuiltOf.get(events);
  if (known && known.scope === sources.scope && known.botUsername === sources.botUsername) return known.rebuilt;
  const rebuilt = rebuild(sources);
  rebuiltOf.set(events, { scope: sources.scope, botUsername: sources.botUsername, rebuilt });
  return rebuilt;
}

function rebuild(sources: TimelineSources): Rebuilt {
  const timeline: TimelineEntry[] = [];
  let unjudged: TimelineEntry[] = [];
  let refused = 0;
  for (const { bot, ...entry } of stateAdds(sources)) {
    if (!bot) {
      unjudged.push(entry);
      continue;
    }
    const before = timeline.at(-1)?.state;
    const last = unjudged.map((u) => u.state).lastIndexOf(entry.state);
    const kept = entry.state === before ? 0 : last >= 0 ? last + 1 : unjudged.length;
    for (const u of unjudged.slice(0, kept)) push(timeline, u);
    refused += unjudged.length - kept;
    unjudged = [];
    push(timeline, entry);
  }
  for (const u of unjudged) push(timeline, u);
  return { timeline, refused };
}

/**
 * Whether the label history shows a move the bot refused (reverted). Only then can it differ from
 * the bot's record in a way that matters, so only then is the bot's note worth reading for the
 * timeline (one more call per request).
 */
export function labelHistoryHasReverts(
  sources: Pick<TimelineSources, 'labelEvents' | 'scope' | 'botUsername'>,
): boolean {
  return timelineFromLabels({ ...sources, recorded: null }).refused > 0;
}
