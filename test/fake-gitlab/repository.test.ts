import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { gitBlobId } from '../../src/fake-gitlab/repository.js';

let fake: FakeGitLab | null = null;
let receiver: Server | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  receiver = null;
});

const get = (path: string) => fetch(`${fake!.apiUrl}${path}`, { headers: { 'PRIVATE-TOKEN': fake!.botToken } });
const FILE = `/projects/1/repository/files/${encodeURIComponent('.gitlab/scale-bot.yml')}`;

describe('fake GitLab: repository (files API, branches, commit comments, Push Hook)', () => {
  it('serves a file at a ref with its blob, commit and last commit, in base64 or raw; 404s as GitLab words them', async () => {
    fake = await startFakeGitLab({ repository: { '.gitlab/scale-bot.yml': 'version: 1\n', 'README.md': 'a\n' } });
    const first = fake.head()!;
    const second = await fake.push({ 'README.md': 'b\n' });
    const res = await get(`${FILE}?ref=main`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      file_path: '.gitlab/scale-bot.yml',
      encoding: 'base64',
      ref: 'main',
      blob_id: gitBlobId('version: 1\n'),
      commit_id: second,
      last_commit_id: first,
    });
    expect(Buffer.from(body.content as string, 'base64').toString('utf8')).toBe('version: 1\n');
    // Git's blob id for "version: 1\n" (git hash-object).
    expect(gitBlobId('version: 1\n')).toBe('b82551848c644f63b8517a7bdf8be9a992e6f4da');
    const raw = await get(`${FILE}/raw`);
    expect(await raw.text()).toBe('version: 1\n');
    expect(raw.headers.get('x-gitlab-commit-id')).toBe(second);
    expect((await get(`${FILE}?ref=${first}`)).status).toBe(200);
    expect(await (await get(`${FILE}`)).json()).toEqual({ error: 'ref is missing' });
    expect(await (await get(`${FILE}?ref=nope`)).json()).toEqual({ message: '404 Commit Not Found' });
    expect(await (await get(`/projects/1/repository/files/missing.yml?ref=main`)).json()).toEqual({
      message: '404 File Not Found',
    });
    expect(await (await get('/projects/1/repository/branches/main')).json()).toMatchObject({
      name: 'main',
      default: true,
      commit: { id: second },
    });
  });

  it('takes comments on a commit and lists them with their author', async () => {
    fake = await startFakeGitLab({ repository: { 'a.txt': 'a' } });
    const sha = fake.head()!;
    const post = await fetch(`${fake.apiUrl}/projects/1/repository/commits/${sha}/comments`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': fake.botToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ note: 'broken config' }),
    });
    expect(post.status).toBe(201);
    expect(await post.json()).toMatchObject({
      note: 'broken config',
      path: null,
      line: null,
      line_type: null,
      author: { username: 'scale-bot' },
    });
    expect(await (await get(`/projects/1/repository/commits/${sha.slice(0, 8)}/comments`)).json()).toMatchObject([
      { note: 'broken config' },
    ]);
    expect(fake.commitComments(sha)).toEqual([{ note: 'broken config', author: 'scale-bot' }]);
    expect((await get('/projects/1/repository/commits/0123456789/comments')).status).toBe(404);
  });

  it('fires a Push Hook for a push to main, shaped as Gitlab::DataBuilder::Push builds it', async () => {
    const bodies: unknown[] = [];
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        bodies.push({ event: req.headers['x-gitlab-event'], body: JSON.parse(data) });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', () => r()));
    fake = await startFakeGitLab({
      repository: { 'a.txt': 'a', 'b.txt': 'b' },
      webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, token: 't' },
    });
    const before = fake.head()!;
    const after = await fake.push(
      { 'a.txt': 'A', 'b.txt': null, 'c.txt': 'c' },
      { message: 'Change\n\nbody', as: 'harper.mgr' },
    );
    expect(bodies).toEqual([
      {
        event: 'Push Hook',
        body: expect.objectContaining({
          object_kind: 'push',
          before,
          after,
          ref: 'refs/heads/main',
          checkout_sha: after,
          user_username: 'harper.mgr',
          project: expect.objectContaining({ id: 1, default_branch: 'main' }),
          commits: [
            expect.objectContaining({
              id: after,
              title: 'Change',
              added: ['c.txt'],
              modified: ['a.txt'],
              removed: ['b.txt'],
            }),
          ],
          total_commits_count: 1,
        }),
      },
    ]);
  });

  it('starts with the bundled configuration and templates, as a project that adopted the bot', async () => {
    fake = await startFakeGitLab();
    const res = await get(`${FILE}?ref=main`);
    expect(res.status).toBe(200);
    expect(
      (
        await get(
          `/projects/1/repository/files/${encodeURIComponent('.gitlab/issue_templates/scale_engagement_request_mm_amr.md')}?ref=main`,
        )
      ).status,
    ).toBe(200);
  });
});
