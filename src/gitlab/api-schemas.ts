import { z } from 'zod';
import { UnexpectedResponseError } from './errors.js';

/** GitLab REST API responses, reduced to the fields the bot reads; extra fields are accepted. */

export const apiUserSchema = z.looseObject({ id: z.number().int(), username: z.string(), name: z.string().optional() });

/** GitLab hands a deleted user's records to its Ghost user; a null author (rare: a database cleanup) reads as that user. */
const author = z
  .looseObject({ username: z.string() })
  .nullable()
  .transform((a) => a ?? { username: 'ghost' });

export const apiIssueSchema = z.looseObject({
  id: z.number().int(),
  iid: z.number().int(),
  project_id: z.number().int().optional(),
  title: z.string(),
  description: z.string().nullable().optional(),
  state: z.enum(['opened', 'closed']),
  author,
  labels: z.array(z.string()).default([]),
  assignees: z.array(z.looseObject({ id: z.number().int().optional(), username: z.string() })).default([]),
  web_url: z.string(),
  created_at: z.string(),
  updated_at: z.string().optional(),
  closed_at: z.string().nullable().optional(),
  closed_by: z.looseObject({ username: z.string() }).nullable().optional(),
  issue_type: z.string().nullable().optional(),
  moved_to_id: z.number().int().nullish(),
});

export const apiLabelEventSchema = z.looseObject({
  id: z.number().int(),
  // A deleted user's events come back with user null.
  user: z.looseObject({ username: z.string() }).nullable(),
  created_at: z.string(),
  // A deleted label's events come back with label null.
  label: z.looseObject({ name: z.string() }).nullable(),
  action: z.enum(['add', 'remove']),
});

export const apiNoteSchema = z.looseObject({
  id: z.number().int(),
  body: z.string(),
  author,
  system: z.boolean().optional(),
  // Internal notes (only project members see them); GitLab before 15.0 called them confidential.
  internal: z.boolean().optional(),
  confidential: z.boolean().nullish(),
  created_at: z.string().optional(),
});

export const apiProjectSchema = z.looseObject({
  id: z.number().int(),
  path_with_namespace: z.string(),
  web_url: z.string().optional(),
  /** Null for a project with an empty repository. */
  default_branch: z.string().nullish(),
});

/** GET /projects/:id/repository/files/:file_path (doc/api/repository_files.md): content in base64. */
export const apiRepositoryFileSchema = z.looseObject({
  content: z.string(),
  encoding: z.string(),
  blob_id: z.string(),
  commit_id: z.string(),
  last_commit_id: z.string(),
});

export const apiCommitSchema = z.looseObject({ id: z.string() });

export const apiCommitCommentSchema = z.looseObject({
  note: z.string(),
  author: z.looseObject({ username: z.string() }),
});

export type ApiUser = z.infer<typeof apiUserSchema>;
export type ApiIssue = z.infer<typeof apiIssueSchema>;
export type ApiNote = z.infer<typeof apiNoteSchema>;
export type ApiProject = z.infer<typeof apiProjectSchema>;
export type ApiLabelEvent = z.infer<typeof apiLabelEventSchema>;

export function validated<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new UnexpectedResponseError(
      what,
      result.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; '),
    );
  }
  return result.data;
}
