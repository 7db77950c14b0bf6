import { readNoteMarker } from '../domain/bot-note-marker.js';
import type { Config } from '../domain/config.js';
import { REQUEST_NOTE } from '../domain/request-note.js';
import { CHECKLIST, tickedItems } from '../domain/checklist.js';
import { planReminders, sentKeys, type ReminderPlan } from '../domain/reminders.js';
import { STALE_STATES, type ChecklistTimes } from '../domain/sla.js';
import type { GitLabClient } from '../gitlab/client.js';
import { planWaitingOnAuthor, type WaitingStep } from '../domain/waiting-on-author.js';
import type { ApiNote } from '../gitlab/api-schemas.js';
import { reminderNoteBody, waitingNoteBody } from '../render/reminders.js';
import { createOnce } from './create-once.js';
import { loadRequests } from './load-requests.js';
import type { Progress } from './progress.js';

export interface RemindJobOptions {
  dryRun: boolean;
  now: Date;
  botUsername: string;
}

export interface RemindJobResult {
  plan: ReminderPlan;
  /** The reminders issue's URL (null when it does not exist yet and this was a dry run). */
  issueUrl: string | null;
  posted: string[];
  /** Requests waiting on their author: reminded, or closed (done, or to do on a dry run). */
  waiting: WaitingStep[];
}

interface RemindExtra {
  checklist: ChecklistTimes | null;
  botNotes: Array<{ key: string; createdAt: string }>;
}

const CALL_HELD = CHECKLIST[1];
const FOLLOW_UP = CHECKLIST[3];
const WITH_CHECKLIST = new Set(['accepted', 'scheduled', 'completed']);

/**
 * SLA reminders: every open request's breaches, minus those already reminded (read back from the
 * markers of the bot's notes on the reminders issue), grouped into one note per person.
 */
export async function runRemind(
  client: GitLabClient,
  config: Config,
  options: RemindJobOptions,
  progress: Progress,
): Promise<RemindJobResult> {
  const bot = options.botUsername.toLowerCase();
  const requests = await loadOpenRequests(client, config, options.now, progress, bot);
  const waiting = planWaitingOnAuthor(
    requests.map((r) => ({ history: r.history, botNotes: r.extra.botNotes })),
    config,
    options.now,
  );
  if (!options.dryRun) for (const step of waiting) await applyWaiting(client, step, bot);
  const title = config.reminders.issueTitle;
  const label = config.labels.operations;
  const find = () => client.findOwnIssue(title, label);
  let issue = await find();
  const botNoteBodies = async (iid: number) =>
    (await client.allNotes(iid)).filter((n) => !n.system && n.author.username.toLowerCase() === bot).map((n) => n.body);
  const sent = issue ? sentKeys(await botNoteBodies(issue.iid)) : new Set<string>();
  const plan = planReminders({
    requests: requests.map((r) => ({ history: r.history, checklist: r.extra.checklist })),
    sent,
    config,
    now: options.now,
  });
  const posted: string[] = [];
  if (options.dryRun || plan.messages.length === 0) return { plan, issueUrl: issue?.web_url ?? null, posted, waiting };

  issue ??= await createOnce(find, () =>
    client.createIssue(
      title,
      'SLA reminders from `scale-bot remind`: one note per person per run. Each reminder is sent once.',
      [label],
    ),
  );
  const target = issue;
  for (const message of plan.messages) {
    const body = reminderNoteBody(message);
    // A note whose POST got no answer may have landed: look for its marker before posting again.
    await createOnce(
      async () =>
        (await botNoteBodies(target.iid)).some((b) => readNoteMarker(b)?.key === readNoteMarker(body)?.key)
          ? true
          : null,
      async () => Boolean(await client.createNote(target.iid, body)),
    );
    posted.push(message.username);
  }
  return { plan, issueUrl: target.web_url, posted, waiting };
}

/** Every open request, with its checklist times and the bot's notes on it. */
function loadOpenRequests(client: GitLabClient, config: Config, now: Date, progress: Progress, bot: string) {
  return loadRequests<RemindExtra>(client, [{ state: 'opened' }], {
    config,
    today: now.toISOString().slice(0, 10),
    progress,
    // Requests waiting on their author are reminded and closed by their people's last activity too.
    activityStates: [...STALE_STATES, 'needs-info'],
    extra: async (history, _issue, notes) => ({
      // Only engagements past acceptance have a checklist worth reading.
      checklist:
        history.state && WITH_CHECKLIST.has(history.state)
          ? checklistOf(notes ?? (await client.allNotes(history.iid)), bot)
          : null,
      botNotes: notes ? botMarkers(notes, bot) : [],
    }),
  });
}

/** The marker keys of the bot's notes on a request, and when each was posted. */
function botMarkers(notes: readonly ApiNote[], bot: string): RemindExtra['botNotes'] {
  return notes.flatMap((n) => {
    const key = !n.system && n.author.username.toLowerCase() === bot ? readNoteMarker(n.body)?.key : undefined;
    return key && n.created_at ? [{ key, createdAt: n.created_at }] : [];
  });
}

/** Posts the step's note once (found again by its marker), then closes the request for a close step. */
async function applyWaiting(client: GitLabClient, step: WaitingStep, bot: string): Promise<void> {
  if (!step.notePosted) {
    await createOnce(
      async () => (botMarkers(await client.allNotes(step.iid), bot).some((n) => n.key === step.key) ? true : null),
      async () => Boolean(await client.createNote(step.iid, waitingNoteBody(step))),
    );
  }
  if (step.action === 'close') await client.editIssue(step.iid, { stateEvent: 'close' });
}

/** When "Call held" was first seen ticked and whether the follow-up is ticked, from the bot's tracker note. */
function checklistOf(
  notes: ReadonlyArray<{ body: string; author: { username: string }; system?: boolean }>,
  bot: string,
): ChecklistTimes | null {
  const note = notes.find(
    (n) => !n.system && n.author.username.toLowerCase() === bot && readNoteMarker(n.body)?.key === REQUEST_NOTE,
  );
  if (!note) return null;
  const ticks = (readNoteMarker(note.body)!.state.ticks ?? {}) as Record<string, unknown>;
  const callHeldAt = typeof ticks[CALL_HELD] === 'string' ? (ticks[CALL_HELD] as string) : null;
  // The box itself is the truth; the recorded time may lag until the service's next pass.
  return { callHeldAt, followUpSent: tickedItems(note.body).has(FOLLOW_UP) };
}
