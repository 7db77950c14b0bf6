import { ApiError } from './api-error.js';
import {
  CREATE_COMMANDS,
  UPDATE_COMMANDS,
  extractQuickActions,
  parseLabelArg,
  parseUserArg,
  type QuickAction,
} from './quick-actions.js';

/**
 * The fake's in-memory project: users, labels, issues, notes and resource label events, with the
 * write rules GitLab applies (quick actions, scoped labels, label events, system notes). No HTTP
 * here: each write returns the steps (open / update / close / reopen) a webhook would report.
 */

export interface UserRecord {
  id: number;
  username: string;
  name: string;
  createdAt: Date;
  /** The project role, as GitLab's `Gitlab::Access` levels (`lib/gitlab/access.rb`). */
  accessLevel: AccessLevel;
  /** False for a user of the instance who is no member of the project (`accessLevel` then unused). */
  member: boolean;
}

/** `Gitlab::Access` (`lib/gitlab/access.rb`): the project roles and their levels. */
export const ACCESS_LEVELS = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;
export type Role = keyof typeof ACCESS_LEVELS;
export type AccessLevel = (typeof ACCESS_LEVELS)[Role];

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface IssueRecord {
  id: number;
  iid: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  /** In the order they were added; the API lists them sorted by name. */
  labelIds: number[];
  assigneeIds: number[];
  authorId: number;
  confidential: boolean;
  /** GitLab's work item type: tasks live in the issues API too, but their hooks differ. */
  issueType: IssueType;
  discussionLocked: boolean | null;
  createdAt: Date;
  updatedAt: Date;
  updatedById: number | null;
  lastEditedAt: Date | null;
  lastEditedById: number | null;
  closedAt: Date | null;
  closedById: number | null;
}

export interface NoteRecord {
  id: number;
  iid: number;
  body: string;
  authorId: number;
  system: boolean;
  internal: boolean;
  createdAt: Date;
  updatedAt: Date;
  updatedById: number | null;
}

export interface LabelEventRecord {
  id: number;
  iid: number;
  userId: number;
  labelId: number;
  action: 'add' | 'remove';
  createdAt: Date;
}

/** One change GitLab reports with one Issue Hook. */
export interface IssueStep {
  action: 'open' | 'update' | 'close' | 'reopen';
  /** The issue before this step; null when it was just created. */
  before: IssueRecord | null;
  after: IssueRecord;
}

export type IssueType = 'issue' | 'task';

export interface CreateIssueInput {
  title: string;
  issueType?: IssueType;
  description?: string | null;
  /** Label names; missing labels are created, as the API does. */
  labels?: string[];
  assigneeIds?: number[];
  confidential?: boolean;
  createdAt?: Date;
}

export interface UpdateIssueInput {
  title?: string;
  description?: string | null;
  /** Replaces every label. */
  labels?: string[];
  addLabels?: string[];
  removeLabels?: string[];
  /** Replaces every assignee; `[]` unassigns. */
  assigneeIds?: number[];
  stateEvent?: 'close' | 'reopen';
  confidential?: boolean;
  discussionLocked?: boolean;
}

export interface SeedIssueInput {
  title: string;
  issueType?: IssueType;
  description?: string | null;
  labels?: string[];
  authorId: number;
  assigneeIds?: number[];
  state?: 'opened' | 'closed';
  confidential?: boolean;
  createdAt?: Date;
  updatedAt?: Date;
  closedAt?: Date;
  /** Label events to record, oldest first (the labels themselves come from `labels`). */
  history?: ReadonlyArray<{ label: string; action: 'add' | 'remove'; at: Date; userId: number }>;
}

/** Everything one write asks of an issue, from API parameters and quick actions together. */
interface PendingChange {
  title?: string;
  description?: string | null;
  setLabels?: number[];
  addLabels: number[];
  removeLabels: number[];
  setAssignees?: number[];
  addAssignees: number[];
  removeAssignees: number[];
  stateEvent?: 'close' | 'reopen';
  confidential?: boolean;
  discussionLocked?: boolean;
}

/** GitLab's default colour for a label created on the fly. */
const DEFAULT_LABEL_COLOR = '#6699cc';

/**
 * `validates :note, length: { maximum: Gitlab::Database::MAX_TEXT_SIZE_LIMIT }`
 * (app/models/concerns/notes/active_record.rb; `MAX_TEXT_SIZE_LIMIT = 1_000_000`, lib/gitlab/database.rb),
 * checked on the text as sent, before quick actions leave it. Rails counts characters (code points).
 */
export const NOTE_MAX_CHARACTERS = 1_000_000;

/**
 * `DESCRIPTION_LENGTH_MAX = 1.megabyte` and `validates :description, bytesize: { maximum: … },
 * if: :validate_description_length?` (app/models/concerns/issuable.rb): UTF-8 bytes, checked on
 * create and whenever an update changes a description that was itself within the limit.
 */
export const DESCRIPTION_MAX_BYTES = 1_048_576;

/**
 * A note GitLab refuses (create or edit): the API answers `bad_request!("Note #{note.errors.messages}")`
 * (`process_note_creation_result`, lib/api/helpers/notes_helpers.rb; `bad_request!` in lib/api/helpers.rb
 * prefixes "400 Bad request - "), the errors hash as Ruby (3.3) inspects it.
 */
function checkNoteLength(body: string): void {
  if (Array.from(body).length <= NOTE_MAX_CHARACTERS) return;
  throw new ApiError(400, {
    message: `400 Bad request - Note {:note=>["is too long (maximum is ${NOTE_MAX_CHARACTERS} characters)"]}`,
  });
}

/** `ActiveSupport::NumberHelper.number_to_human_size`: base 1024, three significant digits. */
function humanSize(bytes: number): string {
  const units = ['Bytes', 'KB', 'MB', 'GB'];
  const exponent = bytes < 1024 ? 0 : Math.min(units.length - 1, Math.floor(Math.log(bytes) / Math.log(1024)));
  return `${Number((bytes / 1024 ** exponent).toPrecision(3))} ${units[exponent]}`;
}

/**
 * An issue description GitLab refuses: `render_validation_error!(issue)` (lib/api/issues.rb,
 * lib/api/helpers.rb) with `BytesizeValidator`'s message (app/validators/bytesize_validator.rb).
 */
function checkDescriptionSize(description: string | null | undefined, previous: string | null): void {
  if (description == null) return;
  const encoder = new TextEncoder();
  if (previous && encoder.encode(previous).length > DESCRIPTION_MAX_BYTES) return;
  const size = encoder.encode(description).length;
  if (size <= DESCRIPTION_MAX_BYTES) return;
  throw new ApiError(400, {
    message: {
      description: [`is too long (${humanSize(size)}). The maximum size is ${humanSize(DESCRIPTION_MAX_BYTES)}.`],
    },
  });
}

/**
 * A saved note touches its issue (`after_save :touch_noteable`, app/models/note.rb), and `Issue`
 * includes `ThrottledTouch` (app/models/concerns/throttled_touch.rb): `updated_at` moves only when
 * it is more than `TOUCH_INTERVAL = 1.minute` old. So a comment within a minute of another change
 * leaves the issue's `updated_at` where it was (an edit of the issue itself always moves it).
 */
const TOUCH_INTERVAL_MS = 60_000;

function touch(issue: IssueRecord, at: Date): void {
  if (at.getTime() - issue.updatedAt.getTime() > TOUCH_INTERVAL_MS) issue.updatedAt = at;
}

/** `scope::value` and `a::b::value` are scoped labels; the scope is everything before the last `::`. */
function labelScope(name: string): string | null {
  const at = name.lastIndexOf('::');
  return at > 0 ? name.slice(0, at) : null;
}

function toSentence(items: string[]): string {
  if (items.length <= 2) return items.join(' and ');
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

const copyIssue = (issue: IssueRecord): IssueRecord => ({
  ...issue,
  labelIds: [...issue.labelIds],
  assigneeIds: [...issue.assigneeIds],
});

type IssueDiff = ReturnType<typeof issueDiff>;

/** What an update changed on the issue. */
function issueDiff(before: IssueRecord, issue: IssueRecord) {
  const added = issue.labelIds.filter((id) => !before.labelIds.includes(id));
  const removed = before.labelIds.filter((id) => !issue.labelIds.includes(id));
  const assigned = issue.assigneeIds.filter((id) => !before.assigneeIds.includes(id));
  const unassigned = before.assigneeIds.filter((id) => !issue.assigneeIds.includes(id));
  const titleChanged = issue.title !== before.title;
  const descriptionChanged = issue.description !== before.description;
  const confidentialChanged = issue.confidential !== before.confidential;
  const changed =
    added.length + removed.length + assigned.length + unassigned.length > 0 ||
    titleChanged ||
    descriptionChanged ||
    confidentialChanged ||
    issue.discussionLocked !== before.discussionLocked;
  return { added, removed, assigned, unassigned, titleChanged, descriptionChanged, confidentialChanged, changed };
}

export class FakeState {
  private readonly users = new Map<number, UserRecord>();
  private readonly labels = new Map<number, LabelRecord>();
  private readonly labelsByName = new Map<string, LabelRecord>();
  private readonly issues = new Map<number, IssueRecord>();
  private readonly notes = new Map<number, NoteRecord[]>();
  private readonly labelEvents = new Map<number, LabelEventRecord[]>();
  /** Bumped by every change: listings cache their result per revision. */
  revision = 0;
  // Separate ranges so an id is never mistaken for an iid or another kind of id.
  private nextId = { user: 10, label: 101, issue: 5001, note: 70001, labelEvent: 9001 };
  private lastIid = 0;

  constructor(
    readonly projectId: number,
    private readonly now: () => Date,
    private readonly options: { scopedLabels: boolean } = { scopedLabels: true },
  ) {}

  // --- users and labels ---------------------------------------------------------------------

  addUser(username: string, name: string, options: { id?: number; role?: Role; member?: boolean } = {}): UserRecord {
    this.revision++;
    const existing = this.userByUsername(username);
    if (existing) return existing;
    const user = {
      id: options.id ?? this.nextId.user++,
      username,
      name,
      createdAt: this.now(),
      accessLevel: ACCESS_LEVELS[options.role ?? 'developer'],
      member: options.member ?? true,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** GitLab usernames are case-insensitive. */
  userByUsername(username: string): UserRecord | undefined {
    const key = username.toLowerCase();
    for (const user of this.users.values()) if (user.username.toLowerCase() === key) return user;
    return undefined;
  }

  user(id: number): UserRecord {
    const user = this.users.get(id);
    if (!user) throw new Error(`fake GitLab: no user ${id}`);
    return user;
  }

  allUsers(): UserRecord[] {
    return [...this.users.values()].sort((a, b) => a.id - b.id);
  }

  addLabel(name: string, options: { color?: string; description?: string | null } = {}): LabelRecord {
    this.revision++;
    const existing = this.labelsByName.get(name);
    if (existing) return existing;
    const now = this.now();
    const label = {
      id: this.nextId.label++,
      name,
      color: options.color ?? DEFAULT_LABEL_COLOR,
      description: options.description ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.labels.set(label.id, label);
    this.labelsByName.set(name, label);
    return label;
  }

  label(id: number): LabelRecord {
    const label = this.labels.get(id);
    if (!label) throw new Error(`fake GitLab: no label ${id}`);
    return label;
  }

  // --- reads --------------------------------------------------------------------------------

  issue(iid: number): IssueRecord {
    const issue = this.issues.get(iid);
    if (!issue) throw ApiError.notFound();
    return issue;
  }

  allIssues(): IterableIterator<IssueRecord> {
    return this.issues.values();
  }

  notesOf(iid: number): NoteRecord[] {
    return this.notes.get(iid) ?? [];
  }

  note(iid: number, noteId: number): NoteRecord {
    const note = this.notesOf(iid).find((n) => n.id === noteId);
    if (!note) throw ApiError.notFound();
    return note;
  }

  labelEventsOf(iid: number): LabelEventRecord[] {
    return this.labelEvents.get(iid) ?? [];
  }

  // --- writes -------------------------------------------------------------------------------

  /** `POST /projects/:id/issues`: quick actions in the description run, then leave it. */
  createIssue(actorId: number, input: CreateIssueInput): { issue: IssueRecord; steps: IssueStep[] } {
    this.revision++;
    if (input.title.trim() === '') throw new ApiError(400, { message: { title: ["can't be blank"] } });
    checkDescriptionSize(input.description, null);
    const now = input.createdAt ?? this.now();
    const { text, actions } = this.extract(input.description, CREATE_COMMANDS);
    const change = this.commandsToChange(actorId, null, actions);
    const iid = ++this.lastIid;
    const issue: IssueRecord = {
      id: this.nextId.issue++,
      iid,
      title: input.title,
      description: text,
      state: 'opened',
      labelIds: [],
      assigneeIds: [],
      authorId: actorId,
      confidential: input.confidential ?? false,
      issueType: input.issueType ?? 'issue',
      discussionLocked: null,
      createdAt: now,
      updatedAt: now,
      updatedById: null,
      lastEditedAt: null,
      lastEditedById: null,
      closedAt: null,
      closedById: null,
    };
    const labelIds = this.nextLabels(
      [],
      [...(input.labels ?? []).map((n) => this.addLabel(n).id), ...change.addLabels],
      [],
    );
    issue.labelIds = labelIds;
    issue.assigneeIds = [...new Set([...(input.assigneeIds ?? []), ...change.addAssignees])];
    this.issues.set(iid, issue);
    this.recordLabelEvents(actorId, iid, labelIds, [], now);
    return { issue, steps: [{ action: 'open', before: null, after: copyIssue(issue) }] };
  }

  /** `PUT /projects/:id/issues/:iid`: quick actions run in a new description, as GitLab does. */
  updateIssue(actorId: number, iid: number, input: UpdateIssueInput): IssueStep[] {
    this.revision++;
    const issue = this.issue(iid);
    if (input.description !== issue.description) checkDescriptionSize(input.description, issue.description);
    const extracted = input.description === undefined ? null : this.extract(input.description, UPDATE_COMMANDS);
    const change = this.commandsToChange(actorId, issue, extracted?.actions ?? []);
    if (extracted) change.description = extracted.text;
    if (input.title !== undefined) change.title = input.title;
    if (input.labels !== undefined) change.setLabels = input.labels.map((n) => this.addLabel(n).id);
    change.addLabels.unshift(...(input.addLabels ?? []).map((n) => this.addLabel(n).id));
    change.removeLabels.push(...(input.removeLabels ?? []).flatMap((n) => this.labelsByName.get(n)?.id ?? []));
    if (input.assigneeIds !== undefined) change.setAssignees = input.assigneeIds;
    if (input.stateEvent !== undefined) change.stateEvent = input.stateEvent;
    if (input.confidential !== undefined) change.confidential = input.confidential;
    if (input.discussionLocked !== undefined) change.discussionLocked = input.discussionLocked;
    return this.apply(actorId, issue, change);
  }

  /** `DELETE /projects/:id/issues/:iid`: the issue, its notes and events are gone (GitLab sends no hook). */
  deleteIssue(iid: number): void {
    this.issue(iid);
    this.revision++;
    this.issues.delete(iid);
    this.notes.delete(iid);
    this.labelEvents.delete(iid);
  }

  /**
   * `POST …/notes`: quick actions run and leave the note; a note of commands only is not saved
   * (`note: null`), as GitLab answers 202 then.
   */
  createNote(
    actorId: number,
    iid: number,
    body: string,
    internal: boolean,
  ): { note: NoteRecord | null; steps: IssueStep[]; actions: QuickAction[] } {
    this.revision++;
    const issue = this.issue(iid);
    checkNoteLength(body);
    const { text, actions } = extractQuickActions(body, UPDATE_COMMANDS);
    if (text.trim() === '' && actions.length === 0) throw new ApiError(400, { message: { note: ["can't be blank"] } });
    let note: NoteRecord | null = null;
    if (text.trim() !== '') {
      note = this.addNote(actorId, iid, text, false, internal);
      touch(issue, note.createdAt);
    }
    const steps = actions.length > 0 ? this.apply(actorId, issue, this.commandsToChange(actorId, issue, actions)) : [];
    return { note, steps, actions };
  }

  /**
   * GitLab's `admin_note` ability, which editing (and deleting) a note through the API requires
   * (`lib/api/helpers/notes_helpers.rb`: `authorize! :admin_note, note`, else 403): the note's author
   * (`app/policies/note_policy.rb`, `rule { is_author }`) or a Maintainer or Owner of the project
   * (`app/policies/project_policy.rb`, `rule { can?(:maintainer_access) }` enables `:admin_note`);
   * never on a system note (`rule { ~editable }.prevent :admin_note`). A Reporter or Developer
   * cannot edit, so cannot tick a task in, another person's comment.
   */
  canAdminNote(actorId: number, note: NoteRecord): boolean {
    if (note.system) return false;
    return note.authorId === actorId || this.user(actorId).accessLevel >= ACCESS_LEVELS.maintainer;
  }

  /**
   * `PUT …/notes/:note_id` by the author or a Maintainer (see `canAdminNote`), as
   * `Notes::UpdateService#execute` (app/services/notes/update_service.rb) runs it: the text is
   * validated as sent, then quick actions run on the edited note as on a new one; a note left with
   * commands only is deleted (`delete_note`, the API answers 202, see `routes.ts`), otherwise it
   * keeps the rest, and `last_edited_at`/`updated_by` move only when the text changed.
   */
  updateNote(
    actorId: number,
    iid: number,
    noteId: number,
    body: string,
  ): { note: NoteRecord | null; changed: boolean; steps: IssueStep[]; actions: QuickAction[] } {
    this.revision++;
    const issue = this.issue(iid);
    const note = this.note(iid, noteId);
    if (!this.canAdminNote(actorId, note)) throw ApiError.forbidden();
    if (body.trim() === '') throw new ApiError(400, { message: { note: ["can't be blank"] } });
    checkNoteLength(body);
    const { text, actions } = extractQuickActions(body, UPDATE_COMMANDS);
    const changed = note.body !== text;
    if (changed && text !== '') {
      note.body = text;
      note.updatedAt = this.now();
      note.updatedById = actorId;
      touch(issue, note.updatedAt);
    }
    const steps = actions.length > 0 ? this.apply(actorId, issue, this.commandsToChange(actorId, issue, actions)) : [];
    if (text !== '') return { note, changed, steps, actions };
    this.notes.set(
      iid,
      this.notesOf(iid).filter((n) => n.id !== noteId),
    );
    return { note: null, changed, steps, actions };
  }

  /** `DELETE …/notes/:note_id` (a maintainer may delete anyone's comment; GitLab sends no hook). */
  deleteNote(iid: number, noteId: number): void {
    this.revision++;
    const note = this.note(iid, noteId);
    if (note.system) throw ApiError.forbidden();
    this.notes.set(
      iid,
      this.notesOf(iid).filter((n) => n.id !== noteId),
    );
  }

  /** Bulk loading for large fixtures: no quick actions, events or notes. */
  seedIssue(input: SeedIssueInput): IssueRecord {
    this.revision++;
    const createdAt = input.createdAt ?? this.now();
    const closed = input.state === 'closed';
    const updatedAt = input.updatedAt ?? createdAt;
    const iid = ++this.lastIid;
    const issue: IssueRecord = {
      id: this.nextId.issue++,
      iid,
      title: input.title,
      description: input.description ?? null,
      state: closed ? 'closed' : 'opened',
      labelIds: this.nextLabels(
        [],
        (input.labels ?? []).map((n) => this.addLabel(n).id),
        [],
      ),
      assigneeIds: input.assigneeIds ?? [],
      authorId: input.authorId,
      confidential: input.confidential ?? false,
      issueType: input.issueType ?? 'issue',
      discussionLocked: null,
      createdAt,
      updatedAt,
      updatedById: null,
      lastEditedAt: null,
      lastEditedById: null,
      closedAt: closed ? (input.closedAt ?? updatedAt) : null,
      closedById: closed ? input.authorId : null,
    };
    this.issues.set(iid, issue);
    for (const e of input.history ?? []) {
      const labelId = this.addLabel(e.label).id;
      this.recordLabelEvents(
        e.userId,
        iid,
        e.action === 'add' ? [labelId] : [],
        e.action === 'remove' ? [labelId] : [],
        e.at,
      );
    }
    return issue;
  }

  // --- rules --------------------------------------------------------------------------------

  private extract(
    description: string | null | undefined,
    commands: readonly string[],
  ): { text: string | null; actions: QuickAction[] } {
    if (description == null) return { text: description ?? null, actions: [] };
    return extractQuickActions(description, commands);
  }

  /** Quick actions to a change; unknown labels and users are ignored, as GitLab does. */
  private commandsToChange(actorId: number, issue: IssueRecord | null, actions: QuickAction[]): PendingChange {
    const change: PendingChange = { addLabels: [], removeLabels: [], addAssignees: [], removeAssignees: [] };
    const labelIds = (arg: string) =>
      parseLabelArg(arg).flatMap((ref) =>
        'id' in ref ? (this.labels.has(ref.id) ? [ref.id] : []) : (this.labelsByName.get(ref.name)?.id ?? []),
      );
    const userIds = (arg: string) =>
      parseUserArg(arg).flatMap((ref) => ('me' in ref ? [actorId] : (this.userByUsername(ref.username)?.id ?? [])));
    for (const { name, arg } of actions) {
      switch (name) {
        case 'label':
        case 'labels':
          change.addLabels.push(...labelIds(arg));
          break;
        case 'unlabel':
        case 'remove_label':
          change.removeLabels.push(...(arg === '' ? (issue?.labelIds ?? []) : labelIds(arg)));
          break;
        case 'relabel': {
          const ids = labelIds(arg);
          if (ids.length > 0) change.setLabels = ids;
          break;
        }
        case 'assign':
          change.addAssignees.push(...userIds(arg));
          break;
        case 'unassign':
          if (arg === '') change.setAssignees = [];
          else change.removeAssignees.push(...userIds(arg));
          break;
        case 'close':
        case 'reopen':
          change.stateEvent = name;
          break;
      }
    }
    return change;
  }

  /**
   * The label set after a change, as `EE::Issuable::Callbacks::Labels#filter_mutually_exclusive_labels`
   * (gitlab-org/gitlab, ee/app/services/ee/issuable/callbacks/labels.rb) leaves it: a scope
   * (`ScopedLabelSet`, the name before the last `::`) that gained a label keeps only the last one
   * selected; a scope that gained none keeps what it had. Premium and up (`licensed_feature_available?
   * (:scoped_labels)`): on Free they are plain labels (docs: user/project/labels.md#scoped-labels).
   */
  private nextLabels(current: number[], add: number[], remove: number[], replace?: number[]): number[] {
    let next = [...(replace ?? current)];
    for (const id of add) if (!next.includes(id)) next.push(id);
    next = next.filter((id) => !remove.includes(id));
    if (!this.options.scopedLabels) return next;
    const added = next.filter((id) => !current.includes(id));
    for (const id of added.reverse()) {
      const scope = labelScope(this.label(id).name);
      if (scope !== null && next.includes(id))
        next = next.filter((other) => other === id || labelScope(this.label(other).name) !== scope);
    }
    return next;
  }

  /** Applies a change: a state change first (its own hook, as `change_state` runs first), then the rest. */
  private apply(actorId: number, issue: IssueRecord, change: PendingChange): IssueStep[] {
    const now = this.now();
    const stateStep = this.applyStateEvent(actorId, issue, change.stateEvent, now);
    const steps: IssueStep[] = stateStep ? [stateStep] : [];
    const before = copyIssue(issue);
    this.applyFields(issue, change);
    const diff = issueDiff(before, issue);
    if (!diff.changed) return steps;
    issue.updatedAt = now;
    issue.updatedById = actorId;
    if (diff.titleChanged || diff.descriptionChanged) {
      issue.lastEditedAt = now;
      issue.lastEditedById = actorId;
    }
    this.recordLabelEvents(actorId, issue.iid, diff.added, diff.removed, now);
    this.addChangeNotes(actorId, before, issue, diff);
    steps.push({ action: 'update', before, after: copyIssue(issue) });
    return steps;
  }

  /** Closes or reopens the issue when the event changes its state; null when it does not. */
  private applyStateEvent(
    actorId: number,
    issue: IssueRecord,
    stateEvent: PendingChange['stateEvent'],
    now: Date,
  ): IssueStep | null {
    if (!(stateEvent === 'close' && issue.state === 'opened') && !(stateEvent === 'reopen' && issue.state === 'closed'))
      return null;
    const before = copyIssue(issue);
    const closing = stateEvent === 'close';
    Object.assign(issue, {
      state: closing ? 'closed' : 'opened',
      closedAt: closing ? now : null,
      closedById: closing ? actorId : null,
      updatedAt: now,
      updatedById: actorId,
    });
    return { action: stateEvent, before, after: copyIssue(issue) };
  }

  /** Labels, assignees, title, description, confidentiality and lock as the change asks. */
  private applyFields(issue: IssueRecord, change: PendingChange): void {
    issue.labelIds = this.nextLabels(issue.labelIds, change.addLabels, change.removeLabels, change.setLabels);
    const assignees = (change.setAssignees ?? issue.assigneeIds).filter((id) => !change.removeAssignees.includes(id));
    issue.assigneeIds = [
      ...new Set([...assignees, ...change.addAssignees.filter((id) => !change.removeAssignees.includes(id))]),
    ];
    if (change.title !== undefined) issue.title = change.title;
    if (change.description !== undefined) issue.description = change.description;
    if (change.confidential !== undefined) issue.confidential = change.confidential;
    if (change.discussionLocked !== undefined) issue.discussionLocked = change.discussionLocked;
  }

  /** Label and state changes are resource events; these changes are system notes in GitLab. */
  private addChangeNotes(actorId: number, before: IssueRecord, issue: IssueRecord, diff: IssueDiff): void {
    const { assigned, unassigned } = diff;
    const mention = (ids: number[]) => toSentence(ids.map((id) => `@${this.user(id).username}`));
    if (assigned.length > 0 || unassigned.length > 0) {
      const parts = [
        ...(assigned.length > 0 ? [`assigned to ${mention(assigned)}`] : []),
        ...(unassigned.length > 0 ? [`unassigned ${mention(unassigned)}`] : []),
      ];
      this.addNote(actorId, issue.iid, parts.join(' and '), true, false);
    }
    if (diff.titleChanged)
      this.addNote(actorId, issue.iid, `changed title from **${before.title}** to **${issue.title}**`, true, false);
    if (diff.descriptionChanged) this.addNote(actorId, issue.iid, 'changed the description', true, false);
    if (diff.confidentialChanged) {
      this.addNote(
        actorId,
        issue.iid,
        issue.confidential ? 'made the issue confidential' : 'made the issue visible to everyone',
        true,
        false,
      );
    }
  }

  private recordLabelEvents(userId: number, iid: number, added: number[], removed: number[], at: Date): void {
    if (added.length + removed.length === 0) return;
    const events = this.labelEvents.get(iid) ?? [];
    // GitLab's ChangeLabelsService records the additions first, then the removals.
    for (const [ids, action] of [
      [added, 'add'],
      [removed, 'remove'],
    ] as const) {
      for (const labelId of ids)
        events.push({ id: this.nextId.labelEvent++, iid, userId, labelId, action, createdAt: at });
    }
    this.labelEvents.set(iid, events);
  }

  private addNote(authorId: number, iid: number, body: string, system: boolean, internal: boolean): NoteRecord {
    const now = this.now();
    const note = {
      id: this.nextId.note++,
      iid,
      body,
      authorId,
      system,
      internal,
      createdAt: now,
      updatedAt: now,
      updatedById: null,
    };
    const notes = this.notes.get(iid) ?? [];
    notes.push(note);
    this.notes.set(iid, notes);
    return note;
  }
}
