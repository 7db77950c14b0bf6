import type { NoteState } from './bot-note-marker.js';

/** An issue as listed by GitLab, reduced to what the bot reads of it. */
export interface IssueRecord {
  iid: number;
  title: string;
  description: string;
  state: 'opened' | 'closed';
  author: string;
  labels: string[];
  assignees: string[];
  webUrl: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /**
   * GitLab's `issue_type` ("issue", "incident", "test_case", "task"); absent when GitLab does not
   * say. Tasks are listed and served by the issues API too, but are never requests.
   */
  issueType?: string;
  /** Set when the issue was moved to another project: GitLab keeps the old one, closed, pointing there. */
  movedTo?: number;
}

/** Only issues can be requests: tasks, incidents and test cases share the issues API. */
export function isPlainIssue(issueType: string | null | undefined): boolean {
  return issueType === undefined || issueType === null || issueType === 'issue';
}

/** What the bot knows about one issue when it decides: loaded fresh from GitLab on every pass. */
export interface IssueSnapshot extends Omit<IssueRecord, 'updatedAt'> {
  /** Who closed the issue (null when open, or unknown). */
  closedBy: string | null;
  /** Only the bot's own notes, recognised by their hidden marker. */
  botNotes: BotNote[];
  /** Comments by people (not the bot, not system notes), oldest first. */
  humanNotes: HumanNote[];
  /**
   * Who last assigned each current assignee (lowercased username → actor), from GitLab's
   * "assigned to @…" system notes: tells the bot's assignments from people's even when the bot
   * died before recording its own.
   */
  assignedBy: Record<string, string>;
  /**
   * The issue's label history, loaded only when the workflow needs to know who changed the state
   * (see `needsLabelHistory`); null when not loaded.
   */
  labelEvents: LabelEvent[] | null;
}

export interface HumanNote {
  id: number;
  author: string;
  body: string;
  createdAt: string;
  /** An internal note: its words must never be echoed where everyone can read them. */
  internal?: boolean;
}

export interface LabelEvent {
  id: number;
  /** Null when the user was deleted. */
  user: string | null;
  createdAt: string;
  /** Null when the label was deleted. */
  label: string | null;
  action: 'add' | 'remove';
}

export interface BotNote {
  id: number;
  key: string;
  body: string;
  state: NoteState;
}

/** Another request about the same account (from the account index, built from issue listings). */
export interface RelatedIssue {
  iid: number;
  title: string;
  /** The account its description names (`accountKey`), null when it is no request or names none. */
  account: string | null;
  state: 'opened' | 'closed';
  labels: string[];
  webUrl: string;
  createdAt: string;
}
