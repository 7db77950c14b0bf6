import type { Config } from './config.js';
import { readsAlike } from './read-request.js';
import type { ParsedRequest } from './request.js';

/** Salesforce account ids: 15 characters, or 18 with a case checksum; both start with 001. */
const SALESFORCE_ID = /\b(001[A-Za-z0-9]{12})(?:[A-Za-z0-9]{3})?\b/;

/**
 * The key that says two requests are about the same account: the CRM account id when there is
 * one, else the customer name folded (case, accents, punctuation, legal suffixes).
 */
export function accountKey(request: ParsedRequest, config: Config): string | null {
  const crm = request.fields[config.fieldMap.crmAccount];
  if (typeof crm === 'string') {
    const m = SALESFORCE_ID.exec(crm);
    if (m) return `crm:${m[1]}`;
  }
  const name = request.fields[config.fieldMap.customer];
  if (typeof name !== 'string') return null;
  const folded = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .replace(/\b(inc|llc|ltd|corp|corporation|co|gmbh|plc|sa|ag)\b/g, ' ')
    .trim()
    .replace(/\s+/g, ' ');
  return folded === '' ? null : `name:${folded}`;
}

/** The account a request is about: null when it is no request or names none. */
export function requestAccount(request: ParsedRequest, config: Config): string | null {
  return request.form ? accountKey(request, config) : null;
}

/** Whether two configurations name the same account for every description: they read it alike, and take it from the same fields. */
export function accountsAlike(a: Config, b: Config): boolean {
  return (
    readsAlike(a, b) && a.fieldMap.crmAccount === b.fieldMap.crmAccount && a.fieldMap.customer === b.fieldMap.customer
  );
}
