import { subMonths } from 'date-fns';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load-config.js';
import { accountsAlike } from '../../src/domain/account.js';
import { noteMarker } from '../../src/domain/bot-note-marker.js';
import { readsAlike } from '../../src/domain/read-request.js';
import { REQUEST_NOTE } from '../../src/domain/request-note.js';
import type { FakeGitLab } from '../../src/fake-gitlab/server.js';
import { GitLabClient } from '../../src/gitlab/client.js';
import { createRequester, type Requester } from '../../src/gitlab/requester.js';
import { runSimulate } from '../../src/jobs/simulate-job.js';
import {
  bundled,
  lowerCeilingRoundRobin,
  mmRequest,
  requestProject,
  sample,
  v2Dropped,
  v2EditedInPlace,
} from '../helpers/config-change.js';

/**
 * `simulate` shares work between the two configurations where they would do it alike: one reading
 * of each description, one account index. Whatever is shared, the result must be
 * exactly what each configuration deciding on its own gives.
 */

let fake: FakeGitLab | null = null;
let requester: Requester | null = null;
afterEach(async () => {
  await requester?.stop();
  await fake?.stop();
  [fake, requester] = [null, null];
});

const config = (text: string, name: string) => parseConfigText(text, name);
/** The limit of engagements with one account, and the months it looks back, changed: forms read alike, accounts over other months. */
const tighterLimit = bundled
  .replace('engagementLimit: 3', 'engagementLimit: 2')
  .replace('historyMonths: 12', 'historyMonths: 6');

/** Requests of every kind a change may treat differently, two of them about the same account. */
async function project() {
  const made = await requestProject();
  fake = made.fake;
  const ae = fake.as('alex.ae');
  const sameAccount = (customer: string, arr: string) =>
    mmRequest(customer, arr).replace(/0014M0000\d\dAbCdQAK/, '0014M00001lZyXwQAK');
  await ae.createIssue({ title: 'Contoso', description: mmRequest('Contoso', '$100k') });
  await ae.createIssue({ title: 'Fabrikam', description: mmRequest('Fabrikam', '$210k') });
  // Two closed requests about Tailspin, 8 and 9 months old: within the base's 12 months of history, not the
  // 6 months of `tighterLimit` (a shared account index must still let each side count its own months).
  fake.seedIssues(2, (i) => ({
    title: `Tailspin ${i}`,
    description: sameAccount('Tailspin', '$80k'),
    author: 'alex.ae',
    state: 'closed',
    createdAt: subMonths(new Date(), 8 + i),
    closedAt: subMonths(new Date(), 7),
  }));
  await ae.createIssue({ title: 'Tailspin 1', description: sameAccount('Tailspin', '$90k') });
  await ae.createIssue({ title: 'Tailspin 2', description: sameAccount('Tailspin', '$120k') });
  await fake
    .as('jordan.ae')
    .createIssue({ title: 'Blue Harbor', description: sample('smbeast-amr-missing-fields.md') });
  await ae.createIssue({ title: 'A question', description: 'Can someone help with a renewal?' });
  const closed = await ae.createIssue({ title: 'Closed', description: mmRequest('Closed Co', '$210k') });
  await fake.as('scale-bot').comment(closed.iid, `${noteMarker(REQUEST_NOTE, { state: 'assigned' })}\nAssigned.`);
  await ae.closeIssue(closed.iid);
  requester = createRequester(
    {
      requestsPerMinute: 60_000,
      notesPerMinute: 6000,
      searchesPerMinute: 6000,
      retries: 0,
      timeoutMs: 5000,
      minBackoffMs: 1,
      maxBackoffMs: 1,
    },
    pino({ level: 'silent' }),
    null,
  );
  const client = new GitLabClient(
    { url: fake.url, token: fake.botToken, project: fake.project.path_with_namespace },
    requester,
  );
  return { client, botUsername: fake.botUsername };
}

describe('simulate: work shared between the two configurations', () => {
  it('decides exactly as each configuration deciding alone, whether the forms differ or not', async () => {
    const { client, botUsername } = await project();
    const base = config(bundled, 'base');
    const now = new Date();
    const heads = {
      lowerCeilingRoundRobin: config(lowerCeilingRoundRobin, 'head'),
      tighterLimit: config(tighterLimit, 'head'),
      v2EditedInPlace: config(v2EditedInPlace, 'head'),
      v2Dropped: config(v2Dropped, 'head'),
    };
    // Which shortcut each change allows: the first two share the reading and the account index (the
    // second over other months), the last two nothing (their forms differ).
    expect(Object.values(heads).map((h) => [readsAlike(base, h), accountsAlike(base, h)])).toEqual([
      [true, true],
      [true, true],
      [false, false],
      [false, false],
    ]);
    for (const [name, head] of Object.entries(heads)) {
      // Closed requests too: the window reaches back to the start of the project.
      const options = { base, head, now, botUsername, since: '2000-01-01' };
      const shared = await runSimulate(client, options);
      const alone = await runSimulate(client, options, false);
      expect({ name, ...shared }).toEqual({ name, ...alone });
      // Every change here decides some request differently, so the comparison compares something.
      expect({ name, changed: alone.diffs.length > 0, total: alone.total }).toEqual({ name, changed: true, total: 9 });
    }
  });

  it('an identical configuration changes nothing, shared or not', async () => {
    const { client, botUsername } = await project();
    const options = {
      base: config(bundled, 'base'),
      head: config(bundled, 'head'),
      now: new Date(),
      botUsername,
    };
    expect(readsAlike(options.base, options.head)).toBe(true);
    const shared = await runSimulate(client, options);
    expect(shared).toEqual(await runSimulate(client, options, false));
    expect([shared.total, shared.unchanged, shared.diffs]).toEqual([8, 8, []]);
  });
});
