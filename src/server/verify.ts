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
  if (lastSecret?.secret !== secret) lastSecret = { secret, digest: createHash('sha256').update(secret, 'utf8').digest() };
  return lastSecret.digest;
}

export interface SignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`):
 * base64 HMAC-SHA256 over `id.timestamp.body` with the key (a `whsec_` prefix means base64 bytes).
 * `nowSeconds` is a parameter so the check is testable; tolerance guards against replays.
 */
export function verifySignature(
  headers: SignatureHeaders,
  body: Buffer,
  key: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): SignatureCheck {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  const ts = Number(timestamp);
  if (!Number.isInteger(ts)) return { ok: false, reason: 'webhook-timestamp is not a number' };
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return { ok: false, reason: 'webhook-timestamp outside the tolerance' };
  const secret = key.startsWith('whsec_') ? Buffer.from(key.slice('whsec_'.length), 'base64') : Buffer.from(key, 'utf8');
  const expected = createHmac('sha256', secret)
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest();
  // The header may carry several space-separated signatures (key rotation): any v1 match counts.
  for (const part of signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no matching v1 signature' };
}
