import type { Config } from './config.js';
import { parse } from './parse.js';
import { qualify, type Qualification } from './qualify.js';
import type { ParsedRequest } from './request.js';
import { route, type ExistingAssignment, type RouteDecision, type Workload } from './route.js';

export interface RequestAnalysis {
  request: ParsedRequest;
  qualification: Qualification;
  /** Null when the request cannot be routed yet (no form recognised, or not qualified). */
  routing: RouteDecision | null;
}

export interface AnalyzeInput {
  description: string;
  author: string | null;
  labels?: readonly string[];
  existing?: ExistingAssignment;
}

export const EMPTY_WORKLOAD: Workload = { open: {}, lastAssigned: {} };

/** Parse → validate → qualify → route: everything the bot concludes from one description. */
export function analyzeRequest(
  input: AnalyzeInput,
  config: Config,
  today: string,
  workload: Workload = EMPTY_WORKLOAD,
): RequestAnalysis {
  const request = parse(input.description, config.catalog, { labels: input.labels ?? [] });
  return analyzeParsed(request, input.author, config, today, workload, input.existing);
}

/** Validate → qualify → route a description already read. */
export function analyzeParsed(
  request: ParsedRequest,
  author: string | null,
  config: Config,
  today: string,
  workload: Workload = EMPTY_WORKLOAD,
  existing?: ExistingAssignment,
): RequestAnalysis {
  const qualification = qualify(request, author, config, today);
  const routing =
    request.form && qualification.status !== 'not-qualified' ? route(request, config, workload, today, existing) : null;
  return { request, qualification, routing };
}
