/** What parsing an issue description produces: the form it came from, typed values, problems. */

export type FieldValue = string | number | boolean | string[];

export type ProblemCode =
  | 'form-unknown'
  | 'form-version-unknown'
  | 'missing'
  | 'invalid'
  | 'ambiguous'
  | 'not-an-option'
  | 'too-many-choices'
  | 'out-of-range'
  | 'too-short'
  | 'too-long'
  | 'pattern'
  | 'order'
  | 'not-confirmed';

export interface Problem {
  /** The field id, or null for a problem with the description as a whole. */
  field: string | null;
  /** The field's label as the template shows it (null when `field` is null). */
  label: string | null;
  code: ProblemCode;
  message: string;
}

export interface DetectedForm {
  id: string;
  version: number;
  title: string;
  segment: string;
  region: string;
  detectedBy: 'marker' | 'labels' | 'title' | 'headings';
}

export interface ParsedRequest {
  form: DetectedForm | null;
  /** Every field of the detected form version; null when left empty or unreadable. */
  fields: Record<string, FieldValue | null>;
  problems: Problem[];
}
