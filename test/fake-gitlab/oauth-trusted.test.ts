import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';

let fake: FakeGitLab | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
});

async function authorize(f: FakeGitLab, clientId: string): Promise<Response> {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: 'http://localhost:1/auth/callback',
    response_type: 'code',
    scope: 'read_user',
    state: 's1',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
  });
  return fetch(`${f.url}/oauth/authorize?${query}`, { redirect: 'manual' });
}

describe('fake GitLab OAuth: trusted applications (doorkeeper skip_authorization)', () => {
  it('sends the signed-in browser user straight back with a code for a trusted application only', async () => {
    fake = await startFakeGitLab({});
    const plain = fake.addOAuthApplication('http://localhost:1/auth/callback', ['read_user']);
    const trusted = fake.addOAuthApplication('http://localhost:1/auth/callback', ['read_user'], undefined, true);
    // Nobody signed in to GitLab in the browser: even a trusted application shows the page that asks who.
    expect((await authorize(fake, trusted.id)).status).toBe(200);
    fake.setBrowserUser('harper.mgr');
    expect((await authorize(fake, plain.id)).status).toBe(200);
    const skipped = await authorize(fake, trusted.id);
    expect(skipped.status).toBe(302);
    const back = new URL(skipped.headers.get('location')!);
    expect(back.origin + back.pathname).toBe('http://localhost:1/auth/callback');
    expect(back.searchParams.get('state')).toBe('s1');
    expect(back.searchParams.get('code')).toMatch(/^[0-9a-f]{48}$/);
    expect(() => fake!.setBrowserUser('nobody.here')).toThrow(/no user/);
  });
});
