import { randomUUID } from 'node:crypto';
import { webhookHeaders, type WebhookEventName } from './payloads.js';

/**
 * Sends webhooks the way GitLab's `WebHookService` does: a JSON POST with the documented
 * headers, one new `Idempotency-Key` per delivery (kept by a manual resend), a new
 * `X-Gitlab-Webhook-UUID` per attempt, ~10 s timeout. Deliveries go out one at a time, in order,
 * so tests read deterministic sequences; out-of-order cases use `sendRaw`.
 */

export interface WebhookTarget {
  url: string;
  token: string;
}

export interface Delivery {
  event: string;
  /** The receiver's HTTP status; null when it never answered (refused, timed out, stopped). */
  status: number | null;
  payload: unknown;
  headers: Record<string, string>;
  ms: number;
  error?: string;
}

/** GitLab's default `webhook_timeout`. */
const TIMEOUT_MS = 10_000;

export class WebhookDispatcher {
  readonly deliveries: Delivery[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(
    private readonly target: () => WebhookTarget | null,
    private readonly instance: () => string,
  ) {}

  /** Queues a delivery of `payload`; resolves with it once answered, or null without a webhook. */
  deliver(event: WebhookEventName, payload: object, eventUuid: string): Promise<Delivery | null> {
    const target = this.target();
    if (!target) return Promise.resolve(null);
    const headers = webhookHeaders({
      event,
      token: target.token,
      uuid: eventUuid,
      idempotencyKey: randomUUID(),
      instance: this.instance(),
    });
    return this.enqueue(target.url, event, payload, headers);
  }

  /** GitLab's "Resend request": same body and `Idempotency-Key`, a new `X-Gitlab-Webhook-UUID`. */
  resend(index: number): Promise<Delivery> {
    const original = this.deliveries[index];
    const target = this.target();
    if (!original) throw new Error(`fake GitLab: no delivery #${index}`);
    if (!target) throw new Error('fake GitLab: no webhook configured');
    return this.enqueue(target.url, original.event, original.payload, {
      ...original.headers,
      'X-Gitlab-Webhook-UUID': randomUUID(),
    });
  }

  /** Posts exactly these headers and body (an object is sent as JSON). */
  sendRaw(headers: Record<string, string>, body: string | object): Promise<Delivery> {
    const target = this.target();
    if (!target) throw new Error('fake GitLab: no webhook configured');
    const event = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-gitlab-event')?.[1] ?? '';
    return this.enqueue(target.url, event, body, headers);
  }

  /** Resolves when every queued delivery has been answered. */
  async settled(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.queue;
      await seen;
    } while (seen !== this.queue);
  }

  /** Aborts deliveries in flight and refuses new ones. */
  close(): void {
    this.stopping.abort();
  }

  private enqueue(url: string, event: string, payload: unknown, headers: Record<string, string>): Promise<Delivery> {
    const run = this.queue.then(() => this.post(url, event, payload, headers));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async post(url: string, event: string, payload: unknown, headers: Record<string, string>): Promise<Delivery> {
    const started = performance.now();
    const delivery: Delivery = { event, status: null, payload, headers, ms: 0 };
    this.deliveries.push(delivery);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: typeof payload === 'string' ? payload : JSON.stringify(payload),
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(TIMEOUT_MS)]),
      });
      delivery.status = response.status;
      await response.arrayBuffer();
    } catch (err) {
      delivery.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    delivery.ms = Math.round(performance.now() - started);
    return delivery;
  }
}
