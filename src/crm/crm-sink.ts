import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';

/**
 * The optional CRM sink: sends an accepted engagement's CTA record to an HTTP endpoint, once per
 * issue. The idempotency key is per issue, so a retry (or a second pass after a crash) cannot create
 * a second record on a server that honours it; 429/5xx and network errors are retried with backoff.
 */

export interface CrmSettings {
  url: string;
  token: string;
  retries: number;
  minBackoffMs: number;
}

export interface CtaRecord {
  name: string;
  company: string;
  type: string;
  reason: string;
  priority: string;
  playbook: string;
  /** The request issue, so the CRM links back. */
  issueUrl: string;
}

const answerSchema = z.looseObject({ id: z.union([z.string().min(1), z.number()]) });

export class CrmError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'CrmError';
  }
}

export async function sendCta(settings: CrmSettings, idempotencyKey: string, record: CtaRecord): Promise<string> {
  return pRetry(
    async () => {
      const response = await fetch(settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${settings.token}`,
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify(record),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (!response.ok) {
        const error = new CrmError(`CRM answered ${response.status}`, response.status);
        // A 4xx other than 429 will not get better by asking again.
        if (response.status !== 429 && response.status < 500) throw new AbortError(error);
        throw error;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new AbortError(new CrmError('CRM answered with something that is not JSON', response.status));
      }
      const parsed = answerSchema.safeParse(json);
      if (!parsed.success) throw new AbortError(new CrmError('CRM answer has no record id', response.status));
      return String(parsed.data.id);
    },
    { retries: settings.retries, minTimeout: settings.minBackoffMs, factor: 2, randomize: true },
  );
}
