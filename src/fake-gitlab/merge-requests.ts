import type { Request, Response, Router } from 'express';
import { ApiError } from './api-error.js';
import { restUser, type EntityContext } from './entities.js';
import { paginate } from './pagination.js';
import { ACCESS_LEVELS, type UserRecord } from './state.js';

/**
 * Merge requests, as far as a CI job of the request project uses them: one note the job keeps
 * current on its merge request. Modelled on GitLab's Notes API for merge requests (docs.gitlab.com
 * "Notes API", section "Merge requests": `GET/POST /projects/:id/merge_requests/:merge_request_iid/notes`,
 * `PUT /projects/:id/merge_requests/:merge_request_iid/notes/:note_id`), served by the same
 * `lib/api/notes.rb` as issue notes: a note is edited by its author or a Maintainer (`:admin_note`,
 * `app/policies/note_policy.rb`, as `FakeState#canAdminNote`), and `body` is required.
 */

export interface MergeRequestRecord {
  iid: number;
  title: string;
  sourceBranch: string;
  targetBranch: string;
  authorId: number;
  notes: MergeRequestNote[];
}

interface MergeRequestNote {
  id: number;
  body: string;
  authorId: number;
  createdAt: Date;
  updatedAt: Date;
}

export class FakeMergeRequests {
  private readonly records = new Map<number, MergeRequestRecord>();
  /** Note ids are global in GitLab; these start far from the issue notes' so the two never meet. */
  private nextNoteId = 900_001;

  constructor(private readonly now: () => Date) {}

  open(input: Omit<MergeRequestRecord, 'iid' | 'notes'>): MergeRequestRecord {
    const record = { ...input, iid: this.records.size + 1, notes: [] };
    this.records.set(record.iid, record);
    return record;
  }

  get(iid: number): MergeRequestRecord {
    const record = this.records.get(iid);
    if (!record) throw ApiError.notFound();
    return record;
  }

  addNote(iid: number, authorId: number, body: string): MergeRequestNote {
    const at = this.now();
    const note = { id: this.nextNoteId++, body, authorId, createdAt: at, updatedAt: at };
    this.get(iid).notes.push(note);
    return note;
  }

  editNote(iid: number, noteId: number, actor: UserRecord, body: string): MergeRequestNote {
    const note = this.get(iid).notes.find((n) => n.id === noteId);
    if (!note) throw ApiError.notFound();
    if (note.authorId !== actor.id && actor.accessLevel < ACCESS_LEVELS.maintainer) throw ApiError.forbidden();
    note.body = body;
    note.updatedAt = this.now();
    return note;
  }
}

function restMergeRequestNote(note: MergeRequestNote, iid: number, ctx: EntityContext) {
  return {
    id: note.id,
    type: null,
    body: note.body,
    author: restUser(ctx.state.user(note.authorId), ctx),
    created_at: note.createdAt.toISOString(),
    updated_at: note.updatedAt.toISOString(),
    system: false,
    noteable_type: 'MergeRequest',
    noteable_iid: iid,
    project_id: ctx.project.id,
    resolvable: false,
    confidential: false,
    internal: false,
  };
}

export function mergeRequestRoutes(
  router: Router,
  backend: { readonly mergeRequests: FakeMergeRequests; entities(): EntityContext },
  checkProject: (req: Request) => void,
  actor: (res: Response) => UserRecord,
): void {
  const mrs = backend.mergeRequests;
  const iidOf = (req: Request) => {
    checkProject(req);
    const value = String(req.params.iid ?? '');
    if (!/^\d+$/.test(value)) throw ApiError.badRequest('merge_request_iid is invalid');
    return Number(value);
  };
  const bodyOf = (req: Request) => {
    const body = (req.body as { body?: unknown } | undefined)?.body ?? req.query.body;
    if (typeof body !== 'string' || body === '') throw ApiError.badRequest('body is missing');
    return body;
  };

  router.get('/projects/:id/merge_requests/:iid/notes', (req, res) => {
    const iid = iidOf(req);
    const notes = mrs.get(iid).notes;
    res.json(
      paginate(notes, req, res, backend.entities().baseUrl).map((n) =>
        restMergeRequestNote(n, iid, backend.entities()),
      ),
    );
  });

  router.post('/projects/:id/merge_requests/:iid/notes', (req, res) => {
    const iid = iidOf(req);
    res.status(201).json(restMergeRequestNote(mrs.addNote(iid, actor(res).id, bodyOf(req)), iid, backend.entities()));
  });

  router.put('/projects/:id/merge_requests/:iid/notes/:note_id', (req, res) => {
    const iid = iidOf(req);
    const noteId = Number(req.params.note_id);
    res.json(restMergeRequestNote(mrs.editNote(iid, noteId, actor(res), bodyOf(req)), iid, backend.entities()));
  });
}
