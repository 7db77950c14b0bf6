import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenMatches, verifySignature } from '../../src/server/verify.js';

describe('tokenMatches', () => {
  it.each([
    ['s3cret', 's3cret', true],
    ['s3cret', 's3cre', false],
    ['s3cret', 's3cret ', false],
    ['', 's3cret', false],
    [undefined, 's3cret', false],
    ['S3CRET', 's3cret', false],
  ])('%j vs %j → %s', (received, secret, expected) => {
    expect(tokenMatches(received, secret)).toBe(expected);
  });
});

describe('verifySignature (Standard Webhooks)', () => {
  const keyBytes = randomBytes(24);
  const key = `whsec_${keyBytes.toString('base64')}`;
  const body = Buffer.from('{"object_kind":"issue"}');
  const sign = (id: string, ts: number, payload: Buffer, k: Buffer = keyBytes) =>
    `v1,${createHmac('sha256', k).update(`${id}.${ts}.`).update(payload).digest('base64')}`;
  const now = 1_800_000_000;

  it('accepts a valid signature, also among several (key rotation)', () => {
    expect(
      verifySignature({ id: 'msg_1', timestamp: String(now), signature: sign('msg_1', now, body) }, body, key, now),
    ).toEqual({ ok: true });
    const rotated = `v1,${randomBytes(32).toString('base64')} ${sign('msg_1', now, body)}`;
    expect(verifySignature({ id: 'msg_1', timestamp: String(now), signature: rotated }, body, key, now).ok).toBe(true);
  });

  it.each([
    ['missing headers', { id: undefined, timestamp: String(now), signature: 'v1,x' }, 'missing'],
    ['a tampered body', { id: 'msg_1', timestamp: String(now), signature: 'TAMPER' }, 'no matching'],
    ['an old timestamp', { id: 'msg_1', timestamp: String(now - 301), signature: 'OLD' }, 'tolerance'],
    ['a timestamp from the future', { id: 'msg_1', timestamp: String(now + 301), signature: 'OLD' }, 'tolerance'],
    ['a non-numeric timestamp', { id: 'msg_1', timestamp: 'soon', signature: 'v1,x' }, 'not a number'],
    ['another id', { id: 'msg_2', timestamp: String(now), signature: 'ID' }, 'no matching'],
    ['another version', { id: 'msg_1', timestamp: String(now), signature: 'V2' }, 'no matching'],
  ])('rejects %s', (_name, headers, reason) => {
    const signature =
      headers.signature === 'TAMPER'
        ? sign('msg_1', now, Buffer.from('{"object_kind":"note"}'))
        : headers.signature === 'OLD'
          ? sign('msg_1', Number(headers.timestamp), body)
          : headers.signature === 'ID'
            ? sign('msg_1', now, body)
            : headers.signature === 'V2'
              ? sign('msg_1', now, body).replace('v1,', 'v2,')
              : headers.signature;
    const result = verifySignature({ ...headers, signature }, body, key, now);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('reads a key without the whsec_ prefix as base64, like the reference library (not as raw bytes)', () => {
    const plain = keyBytes.toString('base64');
    const signature = sign('m', now, body, keyBytes);
    expect(verifySignature({ id: 'm', timestamp: String(now), signature }, body, plain, now).ok).toBe(true);
    const asRawBytes = sign('m', now, body, Buffer.from(plain));
    expect(verifySignature({ id: 'm', timestamp: String(now), signature: asRawBytes }, body, plain, now).ok).toBe(
      false,
    );
  });
});
