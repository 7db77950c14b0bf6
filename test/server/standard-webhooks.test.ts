import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signingKeyBytes, verifySignature } from '../../src/server/verify.js';

/**
 * The Standard Webhooks test vectors: the cases of the reference library's own test suite
 * (libraries/javascript/src/webhook.test.ts in standard-webhooks/standard-webhooks: the same
 * message id, payload and key, and its published signing vector), plus the edge cases a receiver
 * meets. Each vector is checked against our verifier and against the reference library itself.
 */
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const PAYLOAD = '{"test": 2432232314}';
const KEY = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = 1_800_000_000;

const sign = (id: string, ts: number, payload: string, key = KEY) =>
  `v1,${createHmac('sha256', Buffer.from(key, 'base64')).update(`${id}.${ts}.${payload}`).digest('base64')}`;
const valid = sign(ID, NOW, PAYLOAD);

interface Vector {
  name: string;
  key?: string;
  headers: Partial<Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>>;
  payload?: string;
  valid: boolean;
}

const base = { 'webhook-id': ID, 'webhook-timestamp': String(NOW), 'webhook-signature': valid };
const without = (name: keyof typeof base) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== name));

const VECTORS: Vector[] = [
  { name: 'valid signature', headers: base, valid: true },
  { name: 'valid signature, key with whsec_ prefix', key: `whsec_${KEY}`, headers: base, valid: true },
  { name: 'valid signature, key without prefix read as base64', key: KEY, headers: base, valid: true },
  { name: 'missing id', headers: without('webhook-id'), valid: false },
  { name: 'missing timestamp', headers: without('webhook-timestamp'), valid: false },
  { name: 'missing signature', headers: without('webhook-signature'), valid: false },
  { name: 'empty id', headers: { ...base, 'webhook-id': '' }, valid: false },
  { name: 'empty signature', headers: { ...base, 'webhook-signature': '' }, valid: false },
  { name: 'invalid timestamp', headers: { ...base, 'webhook-timestamp': 'hello' }, valid: false },
  { name: 'invalid signature', headers: { ...base, 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' }, valid: false },
  {
    name: 'partial signature (8 characters)',
    headers: { ...base, 'webhook-signature': valid.slice(0, 8) },
    valid: false,
  },
  { name: 'partial signature (v1, alone)', headers: { ...base, 'webhook-signature': 'v1,' }, valid: false },
  { name: 'signature without version', headers: { ...base, 'webhook-signature': valid.slice(3) }, valid: false },
  {
    name: 'signature with v2 version',
    headers: { ...base, 'webhook-signature': valid.replace('v1,', 'v2,') },
    valid: false,
  },
  { name: 'signature with trailing junk', headers: { ...base, 'webhook-signature': `${valid}!!` }, valid: false },
  {
    name: 'signature with a trailing base64 character',
    headers: { ...base, 'webhook-signature': `${valid}A` },
    valid: false,
  },
  { name: 'signature of another id', headers: { ...base, 'webhook-id': 'msg_other' }, valid: false },
  { name: 'signature of another payload', headers: base, payload: '{"test": 2432232315}', valid: false },
  {
    name: 'signature of another timestamp',
    headers: { ...base, 'webhook-signature': sign(ID, NOW - 1, PAYLOAD) },
    valid: false,
  },
  {
    name: 'signature with another key',
    headers: { ...base, 'webhook-signature': sign(ID, NOW, PAYLOAD, 'c2VjcmV0LWtleS1vdGhlcg==') },
    valid: false,
  },
  {
    name: 'old timestamp (tolerance + 1 s)',
    headers: { ...base, 'webhook-timestamp': String(NOW - 301), 'webhook-signature': sign(ID, NOW - 301, PAYLOAD) },
    valid: false,
  },
  {
    name: 'new timestamp (tolerance + 1 s)',
    headers: { ...base, 'webhook-timestamp': String(NOW + 301), 'webhook-signature': sign(ID, NOW + 301, PAYLOAD) },
    valid: false,
  },
  {
    name: 'timestamp at the tolerance, past',
    headers: { ...base, 'webhook-timestamp': String(NOW - 300), 'webhook-signature': sign(ID, NOW - 300, PAYLOAD) },
    valid: true,
  },
  {
    name: 'timestamp at the tolerance, future',
    headers: { ...base, 'webhook-timestamp': String(NOW + 300), 'webhook-signature': sign(ID, NOW + 300, PAYLOAD) },
    valid: true,
  },
  {
    name: 'multi signature payload (valid one third)',
    headers: {
      ...base,
      'webhook-signature': [
        'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
        'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
        valid,
        'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      ].join(' '),
    },
    valid: true,
  },
  {
    name: 'multi signature payload, none valid',
    headers: {
      ...base,
      'webhook-signature': 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,bm90IGEgc2lnbmF0dXJl',
    },
    valid: false,
  },
  {
    name: 'valid signature with a v2 one before it',
    headers: { ...base, 'webhook-signature': `v2,abc ${valid}` },
    valid: true,
  },
  {
    name: 'empty payload, signed',
    headers: { ...base, 'webhook-signature': sign(ID, NOW, '') },
    payload: '',
    valid: true,
  },
  {
    name: 'unicode payload, signed over its UTF-8 bytes',
    headers: { ...base, 'webhook-signature': sign(ID, NOW, '{"name":"Zoë ✓"}') },
    payload: '{"name":"Zoë ✓"}',
    valid: true,
  },
];

describe('Standard Webhooks test vectors', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it.each(VECTORS)('$name: our verifier and the reference library agree ($valid)', (v) => {
    const payload = v.payload ?? PAYLOAD;
    const key = v.key ?? `whsec_${KEY}`;
    const ours = verifySignature(
      {
        id: v.headers['webhook-id'],
        timestamp: v.headers['webhook-timestamp'],
        signature: v.headers['webhook-signature'],
      },
      Buffer.from(payload),
      key,
      NOW,
    );
    let reference: boolean;
    try {
      new Webhook(key).verify(payload, v.headers as Record<string, string>);
      reference = true;
    } catch {
      reference = false;
    }
    expect({ ours: ours.ok, reference }).toEqual({ ours: v.valid, reference: v.valid });
  });

  it('the reference signing vector (whsec_MfKQ…, msg_p5jX…, 1614265330)', () => {
    const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    const headers = { id: ID, timestamp: '1614265330', signature: expected };
    expect(verifySignature(headers, Buffer.from(PAYLOAD), `whsec_${KEY}`, 1614265330).ok).toBe(true);
    expect(new Webhook(`whsec_${KEY}`).sign(ID, new Date(1614265330 * 1000), PAYLOAD)).toBe(expected);
  });

  it.each(['', 'whsec_', 'whsec_===', '==='])(
    'a key that decodes to zero bytes (%j) is refused, as by the reference library',
    (key) => {
      expect(() => signingKeyBytes(key)).toThrow(/zero bytes/);
      expect(() => new Webhook(key)).toThrow();
    },
  );

  it('counts 34 vectors', () => {
    // 29 verification vectors, the signing vector and the 4 empty keys.
    expect(VECTORS.length + 1 + 4).toBe(34);
  });
});
