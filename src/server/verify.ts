import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compares the `X-Gitlab-Token` with the configured secret in constant time. Both sides are hashed
 * first so the comparison takes the same time whatever the lengths (timingSafeEqual needs equal
 * lengths, and an early length check would leak the secret's length).
 */
export function tokenMatches(received: string | undefined, secret: string): boolean {
  if (received === undefined) return false;
  const a = createHash('sha256').update(received, 'utf8').digest();
  return timingSafeEqual(a, secretDigest(secret));
}

/** The configured secret's hash, computed once per secret rather than once per delivery. */
let lastSecret: { secret: string; digest: Buffer } | null = null;
function secretDigest(secret: string): Buffer {
  if (lastSecret?.secret !== secret)
    lastSecret = { secret, digest: createHash('sha256').update(secret, 'utf8').digest() };
  return lastSecret.digest;
}

export interface SignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * The HMAC key bytes of a Standard Webhooks signing key, read as the reference library reads it:
 * base64, after an optional `whsec_` prefix. Throws when that gives no bytes (`whsec_`, `===`):
 * an empty key would let anyone sign.
 */
export function signingKeyBytes(key: string): Buffer {
  const bytes = Buffer.from(key.startsWith('whsec_') ? key.slice('whsec_'.length) : key, 'base64');
  if (bytes.length === 0)
    throw new RangeError('the signing key decodes to zero bytes (expected base64, optionally after whsec_)');
  return bytes;
}

/**
 * Verifies a Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`):
 * base64 HMAC-SHA256 over `id.timestamp.body` with the key bytes (`signingKeyBytes`), compared as
 * base64 text like the reference library (so trailing junk after a valid signature does not pass).
 * `nowSeconds` is a parameter so the check is testable; the tolerance guards against replays.
 */
export function verifySignature(
  headers: SignatureHeaders,
  body: Buffer,
  key: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): SignatureCheck {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature)
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(ts))
    return { ok: false, reason: 'webhook-timestamp is not a number' };
  if (Math.abs(nowSeconds - ts) > toleranceSeconds)
    return { ok: false, reason: 'webhook-timestamp outside the tolerance' };
  const expected = Buffer.from(
    createHmac('sha256', keyBytes(key)).update(`${id}.${timestamp}.`).update(body).digest('base64'),
  );
  // The header may carry several space-separated signatures (key rotation): any v1 match counts.
  for (const part of signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no matching v1 signature' };
}

/** The key's bytes, decoded once per key rather than once per delivery. */
let lastKey: { key: string; bytes: Buffer } | null = null;
function keyBytes(key: string): Buffer {
  if (lastKey?.key !== key) lastKey = { key, bytes: signingKeyBytes(key) };
  return lastKey.bytes;
}
