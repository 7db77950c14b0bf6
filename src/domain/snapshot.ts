import type { NoteState } from './bot-note-marker.js';

/** What the bot knows about one issue when it decides: loaded fresh from GitLab on every pass. */
export interface IssueSnapshot {
  iid: number;
  title: string;
  description: string;
  state: 'opened' | 'closed';
  author: string;
  labels: string[];
  assignees: string[];
  webUrl: string;
  createdAt: string;
  /** Only the bot's own notes, recognised by their hidden marker. */
  botNotes: BotNote[];
}

export interface BotNote {
  id: number;
  key: string;
  body: string;
  state: NoteState;
}

/** Another issue that may concern the same account (found by searching GitLab). */
export interface RelatedIssue {
  iid: number;
  title: string;
  description: string;
  state: 'opened' | 'closed';
  labels: string[];
  webUrl: string;
  createdAt: string;
}
