import type { State } from './workflow.js';

/** The post-call checklist people tick in the bot's note (DESIGN §1, §2.7). */
export const CHECKLIST = [
  'CTA created',
  'Call held',
  'Call logged as an activity on the account timeline',
  'Follow-up email sent (it triggers the CSAT survey)',
] as const;

/** The states in which the engagement runs and its checklist is kept (from acceptance to completion). */
export const CHECKLIST_STATES: readonly State[] = ['accepted', 'scheduled', 'completed'];

/** Checklist items ticked in the bot's note as people left it. */
export function tickedItems(body: string): Set<string> {
  const ticked = new Set<string>();
  for (const line of body.split('\n')) {
    const m = /^\s*[-*+]\s+\[([xX])\]\s+(.*?)\s*$/.exec(line);
    if (m) {
      const item = CHECKLIST.find((c) => c === m[2]);
      if (item) ticked.add(item);
    }
  }
  return ticked;
}

export function missingChecklist(ticked: ReadonlySet<string>): string[] {
  return CHECKLIST.filter((item) => !ticked.has(item));
}

/** First-seen times of the items ticked now (an unticked item is forgotten). */
export function tickTimes(
  known: Record<string, string> | undefined,
  ticked: ReadonlySet<string>,
  now: Date,
): { ticks?: Record<string, string> } {
  if (ticked.size === 0) return {};
  const ticks: Record<string, string> = {};
  for (const item of CHECKLIST) if (ticked.has(item)) ticks[item] = known?.[item] ?? now.toISOString();
  return { ticks };
}
