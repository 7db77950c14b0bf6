import { afterEach, describe, expect, it } from 'vitest';
import { RackAttackThrottle } from '../../src/fake-gitlab/rate-limits.js';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';

let fake: FakeGitLab | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
});

describe('fake GitLab: RateLimit-* headers of throttle_authenticated_api', () => {
  it('counts per user in epoch-aligned windows, as Rack::Attack does, and reports what is left', () => {
    let clock = 130_000;
    const throttle = new RackAttackThrottle('throttle_authenticated_api', 3, 60, () => clock);
    expect(throttle.count(1)).toEqual({
      'RateLimit-Name': 'throttle_authenticated_api',
      'RateLimit-Limit': '3',
      'RateLimit-Observed': '1',
      'RateLimit-Remaining': '2',
      'RateLimit-Reset': '180',
    });
    expect(throttle.count(2)['RateLimit-Observed']).toBe('1');
    throttle.count(1);
    throttle.count(1);
    expect(throttle.count(1)).toMatchObject({ 'RateLimit-Observed': '4', 'RateLimit-Remaining': '0' });
    clock = 180_000;
    expect(throttle.count(1)).toMatchObject({ 'RateLimit-Observed': '1', 'RateLimit-Reset': '240' });
    // A limit over another period is given per minute, rounded up (`rounded_limit`).
    expect(new RackAttackThrottle('t', 100, 120, () => 0).count(1)['RateLimit-Limit']).toBe('50');
  });

  it('sends them on authenticated API answers only', async () => {
    fake = await startFakeGitLab({ apiRateLimit: 10 });
    const first = await fetch(`${fake.apiUrl}/user`, { headers: { 'private-token': fake.botToken } });
    const second = await fetch(`${fake.apiUrl}/user`, { headers: { 'private-token': fake.botToken } });
    for (const answer of [first, second]) {
      expect(answer.headers.get('ratelimit-name')).toBe('throttle_authenticated_api');
      expect(answer.headers.get('ratelimit-limit')).toBe('10');
      expect(Number(answer.headers.get('ratelimit-remaining'))).toBe(
        10 - Number(answer.headers.get('ratelimit-observed')),
      );
    }
    expect((await fetch(`${fake.apiUrl}/projects/1`)).headers.get('ratelimit-limit')).toBeNull();
  });
});
