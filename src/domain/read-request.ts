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

/**
 * Whether two configurations read every description into the same request: the same forms
 * (versions, fields, options, validations) and the same segment and region label scopes (by which
 * a form whose marker is gone is recognised). `parse` reads nothing else of a configuration, so one
 * reading then serves both (`simulate`).
 */
export function readsAlike(a: Config, b: Config): boolean {
  // Compiled forms are plain data from YAML, so their JSON compares them (keys in another order
  // only make them differ, and each configuration reads for itself: slower, never wrong).
  return (
    a.labels.segment === b.labels.segment &&
    a.labels.region === b.labels.region &&
    JSON.stringify(a.forms) === JSON.stringify(b.forms)
  );
}
