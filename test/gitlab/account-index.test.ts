import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AccountIndex } from '../../src/gitlab/account-index.js';
import type { ApiIssue } from '../../src/gitlab/api-schemas.js';
import type { GitLabClient } from '../../src/gitlab/client.js';
import { exampleConfig } from '../helpers/config.js';

const sample = readFileSync(resolve(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
const ACCOUNT_A = '0014M00001lAbCdQAK';
const ACCOUNT_B = '0014M00001lZyXwQAK';

function issue(iid: number, account: string, updatedAt = '2026-11-30T09:00:00.000Z'): ApiIssue {
  return {
    id: 100 + iid,
    iid,
    title: `Request ${iid}`,
    description: sample.replace(ACCOUNT_A, account),
    state: 'opened',
    author: { username: 'alex.ae' },
    labels: [],
    assignees: [],
    web_url: `https://gitlab.example.com/sales/requests/-/issues/${iid}`,
    created_at: '2026-11-30T09:00:00.000Z',
    updated_at: updatedAt,
  };
}

/** `add` fills the index from the caller's listing: no call is made, so the client is never used. */
const noClient = {} as GitLabClient;

describe('AccountIndex lookups', () => {
  it("finds an account's other requests, and follows an issue whose account changed or that was deleted", () => {
    const config = exampleConfig();
    const index = new AccountIndex(noClient, () => new Date('2026-12-01T10:00:00Z'));
    index.add(config, [issue(1, ACCOUNT_A), issue(2, ACCOUNT_A), issue(3, ACCOUNT_B), issue(4, ACCOUNT_A)]);
    const [a, b] = [ACCOUNT_A, ACCOUNT_B].map((id) => `crm:${id.slice(0, 15)}`) as [string, string];
    const iids = (account: string, iid: number) => index.related(account, iid).map((r) => r.iid);
    expect(iids(a, 1)).toEqual([2, 4]);
    expect(iids(b, 1)).toEqual([3]);

    // Issue 2 now names account B: it leaves A's requests and joins B's.
    index.add(config, [issue(2, ACCOUNT_B, '2026-11-30T10:00:00.000Z')]);
    expect(iids(a, 1)).toEqual([4]);
    expect(iids(b, 3)).toEqual([2]);
    index.forget(4);
    expect(iids(a, 1)).toEqual([]);
    expect(index.related('crm:001000000000000', 1)).toEqual([]);
  });
});

describe('AccountIndex memory', () => {
  it('keeps no description alive through the account read from it', () => {
    // V8 cuts a substring as a slice of its parent: an account id taken from a description would
    // hold the whole description (100 KB of pasted notes, say) for as long as the index holds it.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const config = exampleConfig();
    const index = new AccountIndex(noClient, () => new Date('2026-12-01T10:00:00Z'));
    const padding = 'x'.repeat(400_000);
    gc();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < 50; i++) {
      const account = `0014M0000${String(i).padStart(2, '0')}AbCdQAK`;
      // Each description a string of its own, 400 KB long (20 MB in all).
      index.add(config, [
        { ...issue(i + 1, account), description: `${issue(i + 1, account).description}\n<!-- ${padding}${i} -->\n` },
      ]);
    }
    gc();
    const held = getHeapStatistics().used_heap_size - before;
    expect(index.related(`crm:0014M000049AbCd`, 1).map((r) => r.iid)).toEqual([50]);
    expect(held).toBeLessThan(4_000_000);
  });
});
