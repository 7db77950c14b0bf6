import type { Config } from './config.js';
import { parse } from './parse.js';
import type { ParsedRequest } from './request.js';

/**
 * The request an issue's description holds. A pass reads it once and hands it on (to the account
 * lookup and to `decide`): a description may be 100 KB of pasted notes.
 */
export function readRequest(issue: { description: string; labels: readonly string[] }, config: Config): ParsedRequest {
  // The labels let parse recognise the form when its hidden marker was removed.
  return parse(issue.description, config.catalog, { labels: issue.labels });
}
