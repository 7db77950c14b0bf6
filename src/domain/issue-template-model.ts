import type { Form, FormCatalog } from './forms.js';
import { formMarker } from './form-marker.js';

/** What a generated issue template shows, decided here so the Handlebars layout stays dumb. */
export interface IssueTemplateModel {
  fileName: string;
  marker: string;
  title: string;
  description: string | null;
  fields: Array<{
    label: string;
    required: boolean;
    /** Help and the answer hint, shown as an HTML comment. */
    help: string | null;
    /** Task-list lines to tick, or none for a free answer. */
    choices: string[];
  }>;
  quickActions: string[];
}

const HINTS: Record<string, string> = {
  select: 'Tick one: change [ ] to [x].',
  multiselect: 'Tick all that apply: change [ ] to [x].',
  checkbox: 'Tick to confirm: change [ ] to [x].',
  currency: 'An amount in US dollars, e.g. $120,000 or 120k.',
  percent: 'A percentage, e.g. 68%.',
  date: 'A date, e.g. 2027-01-15 or 15 January 2027.',
  number: 'A number, e.g. 250.',
  url: 'A full https:// link.',
  user: 'A GitLab username, e.g. @jane.doe.',
};

export function issueTemplateFileName(formId: string): string {
  return `scale_engagement_request_${formId}.md`;
}

/** GitLab quick-action label syntax; quoted so names with spaces or colons work. */
export function labelReference(label: string): string {
  return `~"${label.replace(/"/g, '')}"`;
}

export function issueTemplateModel(form: Form, catalog: FormCatalog): IssueTemplateModel {
  const version = form.versions[0]!;
  return {
    fileName: issueTemplateFileName(form.id),
    marker: formMarker(form.id, version.version),
    title: form.title,
    description: form.description ?? null,
    fields: version.fields.map((f) => {
      // Choices always say how to tick; other types show their own help, else a typing hint.
      const choosing = f.options.length > 0;
      const help = (choosing ? [f.help, HINTS[f.type]] : [f.help ?? HINTS[f.type]])
        .filter((s): s is string => Boolean(s))
        .join(' ');
      return {
        label: f.label,
        required: f.required,
        help: help === '' ? null : help,
        choices: f.options.map((o) => o.label),
      };
    }),
    quickActions: [
      `/label ${labelReference(catalog.segmentLabel(form.segment))} ${labelReference(catalog.regionLabel(form.region))}`,
    ],
  };
}
