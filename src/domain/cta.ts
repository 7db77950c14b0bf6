import type { Config } from './config.js';
import type { ParsedRequest } from './request.js';

/** The CTA (call to action) record the CSE creates in the CRM for an accepted engagement (DESIGN §1). */

/** The CTA record exactly as the process defines it (DESIGN §1). */
export function ctaRecord(customer: string, priority: string, issueUrl: string): Record<string, string> {
  return {
    name: `${customer} - Ad-Hoc Scale CSE Engagement Request`,
    company: customer,
    type: 'Digital Journey',
    reason: 'Other Digital Journey Reason',
    priority,
    playbook: 'One-Off Scale CSM Outreach',
    issueUrl,
  };
}

/** The fields the note shows, by their CRM names. */
export const CTA_FIELDS: Readonly<Record<string, string>> = {
  Name: 'name',
  Company: 'company',
  Type: 'type',
  Reason: 'reason',
  Priority: 'priority',
  Playbook: 'playbook',
};

/** The customer the request names, as written (not made inert), or `fallback`. */
export function customerName(request: ParsedRequest, config: Config, fallback: string): string {
  const customer = request.fields[config.fieldMap.customer];
  return typeof customer === 'string' ? customer : fallback;
}
