import { accountKey } from './account.js';
import type { Config } from './config.js';
import { scopedValue } from './label-scope.js';
import { qualify, type Qualification } from './qualify.js';
import { relatedRequests, type RelatedRequest } from './related-requests.js';
import type { DetectedForm, ParsedRequest } from './request.js';
import { requestNote, type RequestNoteState } from './request-note.js';
import type { Workload } from './route.js';
import { sameName } from './same-name.js';
import type { BotNote, IssueSnapshot, RelatedIssue } from './snapshot.js';
import { textDigest } from './text-digest.js';
import { INTAKE_STATES } from './workflow.js';

/** What a pass concludes about a request from what it read, before it plans anything. */

/** A request made from a form: the only kind `decide` assesses. */
export type FormRequest = ParsedRequest & { form: DetectedForm };

export interface AssessInput {
  issue: IssueSnapshot;
  request: FormRequest;
  /** Other issues GitLab found for the same account (any state); this issue may be among them. */
  related: readonly RelatedIssue[];
  workload: Workload;
  botUsername: string;
}

export interface Assessment extends AssessInput {
  config: Config;
  now: Date;
  /** `now` as YYYY-MM-DD. */
  today: string;
  /** The request note as it stands, and what it remembers. */
  note: BotNote | undefined;
  memory: RequestNoteState;
  /** The description's digest, and the day date-relative rules are judged as of. */
  digest: string;
  asOf: string;
  qualification: Qualification;
  account: string | null;
  duplicates: RelatedRequest[];
  history: RelatedRequest[];
  /** The `engagement::` state label the issue carries now. */
  labelState: string | null;
  /** Past intake (accepted and later, or closed): people drive the state, intake keeps its hands off. */
  lifecycle: boolean;
  override: boolean;
  notQualified: boolean;
  needsInfo: boolean;
  limitReached: boolean;
}

/** States intake may replace; any other `engagement::` state belongs to the lifecycle and is kept. */
const BOT_OWNED_STATES: readonly string[] = [...INTAKE_STATES, 'not-a-request'];

export function assess(input: AssessInput, config: Config, now: Date): Assessment {
  const { issue, request } = input;
  const today = now.toISOString().slice(0, 10);
  const { note, memory } = requestNote(issue.botNotes);
  // Date-relative rules ("renewal within 3 months") are judged as of the day the description was
  // last read: an unchanged request reads the same tomorrow, so a later pass writes nothing.
  const digest = textDigest(issue.description);
  const asOf = memory.digest === digest && memory.asOf ? memory.asOf : today;
  const qualification = qualify(request, issue.author, config, asOf);
  const account = accountKey(request, config);
  const { duplicates, history } = relatedRequests(input.related, issue, account, config, now);
  const labelState = scopedValue(issue.labels, config.labels.engagement);
  const lifecycle =
    issue.state === 'closed' ||
    (memory.state !== undefined && !INTAKE_STATES.includes(memory.state)) ||
    (labelState !== null && !BOT_OWNED_STATES.includes(labelState));
  const override = issue.labels.some((l) => sameName(l, config.labels.override));
  // Named one by one, not spread from the input: a spread followed by this many properties gives
  // V8 an object it reads slowly, and every later stage reads the assessment (a third of decide's time).
  return {
    issue,
    request,
    related: input.related,
    workload: input.workload,
    botUsername: input.botUsername,
    config,
    now,
    today,
    note,
    memory,
    digest,
    asOf,
    qualification,
    account,
    duplicates,
    history,
    labelState,
    lifecycle,
    override,
    notQualified: qualification.status === 'not-qualified' && !override,
    needsInfo: request.problems.length > 0 || qualification.status === 'incomplete',
    limitReached: history.length >= config.intake.engagementLimit,
  };
}
