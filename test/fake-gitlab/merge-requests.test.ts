import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';

let fake: FakeGitLab | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
});

const call = (method: string, path: string, token: string, body?: object) =>
  fetch(`${fake!.apiUrl}${path}`, {
    method,
    headers: { 'PRIVATE-TOKEN': token, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe('fake GitLab: merge request notes (Notes API, merge requests)', () => {
  it('creates, lists and edits notes; only the author or a Maintainer edits; body required; unknown MR 404', async () => {
    fake = await startFakeGitLab({});
    fake.addUser('alex.ae', 'Alex', 'developer');
    fake.addToken('alex-token', 'alex.ae');
    const mr = fake.openMergeRequest({ sourceBranch: 'change', title: 'Change', as: 'root' });
    const notes = `/projects/1/merge_requests/${mr}/notes`;

    const created = await call('POST', notes, fake.botToken, { body: 'first' });
    expect(created.status).toBe(201);
    const note = (await created.json()) as {
      id: number;
      author: { username: string };
      noteable_type: string;
      system: boolean;
    };
    expect(note).toMatchObject({ author: { username: 'scale-bot' }, noteable_type: 'MergeRequest', system: false });

    expect((await call('PUT', `${notes}/${note.id}`, 'alex-token', { body: 'hijack' })).status).toBe(403);
    expect((await call('PUT', `${notes}/${note.id}`, fake.botToken, { body: 'second' })).status).toBe(200);
    expect((await call('PUT', `${notes}/${note.id}`, 'root-token', { body: 'third' })).status).toBe(200);
    expect((await call('POST', notes, fake.botToken, { body: '' })).status).toBe(400);
    expect((await call('GET', '/projects/1/merge_requests/99/notes', fake.botToken)).status).toBe(404);

    const listed = (await (await call('GET', notes, fake.botToken)).json()) as Array<{ id: number; body: string }>;
    expect(listed.map((n) => [n.id, n.body])).toEqual([[note.id, 'third']]);
    expect(fake.mergeRequestNotes(mr)).toEqual([{ id: note.id, body: 'third', author: 'scale-bot' }]);
  });
});
