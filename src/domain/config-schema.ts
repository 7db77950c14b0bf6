import { z } from 'zod';
import { HOLIDAY_TYPES, publicHolidaysProblem, unknownHolidayNames } from './public-holidays.js';

/**
 * The shape of `.gitlab/scale-bot.yml`. Pure: no file access here; `src/config/load-config.ts` reads
 * the YAML and reports every problem with its path.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, "-" and "_" (e.g. "mm_amr")');

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date, e.g. 2027-01-15')
  .refine(
    (s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: 'not a real calendar date',
    },
  );

export const FIELD_TYPES = [
  'text',
  'textarea',
  'number',
  'currency',
  'percent',
  'date',
  'select',
  'multiselect',
  'checkbox',
  'url',
  'user',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const optionSchema = z.union([z.string().min(1), z.object({ value: id, label: z.string().min(1) }).strict()]);

const validationsSchema = z
  .object({
    min: z.number().optional(),
    max: z.number().optional(),
    integer: z.boolean().optional(),
    minLength: z.number().int().nonnegative().optional(),
    maxLength: z.number().int().positive().optional(),
    pattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p, 'u');
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression')
      .optional(),
    patternMessage: z.string().optional(),
    /** For dates: this field must be after the given field (e.g. renewal after subscription start). */
    after: id.optional(),
    /** For select/multiselect: the choice a person must tick (e.g. an attestation). */
    mustBe: z.union([z.boolean(), z.string()]).optional(),
  })
  .strict();

const fieldDefinitionSchema = z
  .object({
    label: z.string().min(1),
    type: z.enum(FIELD_TYPES),
    required: z.boolean().default(false),
    help: z.string().optional(),
    options: z.array(optionSchema).optional(),
    /** Other headings people (or older templates) use for this field. */
    aliases: z.array(z.string().min(1)).default([]),
    validations: validationsSchema.default({}),
  })
  .strict();

/** A field as listed in a form version: a shared field id, a fieldset, or a field with overrides. */
const fieldRefSchema = z.union([
  id,
  z.object({ fieldset: id }).strict(),
  z
    .object({
      field: id,
      label: z.string().min(1).optional(),
      required: z.boolean().optional(),
      help: z.string().optional(),
      aliases: z.array(z.string().min(1)).optional(),
    })
    .strict(),
]);

const formVersionSchema = z
  .object({
    version: z.number().int().positive(),
    fields: z.array(fieldRefSchema).min(1),
  })
  .strict();

const formSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().optional(),
    segment: id,
    region: id,
    versions: z.array(formVersionSchema).min(1),
  })
  .strict();

const segmentSchema = z
  .object({
    name: z.string().min(1),
    arr: z.object({ min: z.number().nonnegative(), max: z.number().positive() }).strict(),
  })
  .strict();

const timezone = z
  .string()
  .min(1)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone (e.g. "America/New_York")');

/**
 * A region's public holidays from the maintained `date-holidays` calendars, by ISO country and,
 * optionally, state or province (e.g. `{ country: US, state: NY }`).
 */
const publicHolidaysSchema = z
  .object({
    country: z.string().min(2),
    state: z.string().min(1).optional(),
    /** Which of the library's holiday types are days off (`public`, `bank`, `school`, `optional`, `observance`). */
    types: z.array(z.enum(HOLIDAY_TYPES)).min(1).default(['public']),
    /** Holidays of the calendar that are working days here, by their English name (e.g. `Columbus Day`). */
    except: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .superRefine((v, ctx) => {
    const problem = publicHolidaysProblem(v.country, v.state);
    if (problem) return ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    for (const name of unknownHolidayNames(v)) {
      ctx.addIssue({
        code: 'custom',
        path: ['except', v.except.indexOf(name)],
        message: `"${name}" is no holiday of this calendar`,
      });
    }
  });

const regionSchema = z
  .object({
    name: z.string().min(1),
    timezone: timezone.default('UTC'),
    /** Public holidays of the region's country (and state), from a maintained calendar; null for none. */
    publicHolidays: publicHolidaysSchema.nullable().default(null),
    /** Days off in this region (local dates), on top of its public holidays and `calendar.holidays`. */
    holidays: z.array(isoDate).default([]),
  })
  .strict();

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Business days: SLAs count them in the request's region (its time zone, its holidays). */
const calendarSchema = z
  .object({
    weekend: z.array(z.enum(WEEKDAYS)).max(6).default(['sat', 'sun']),
    /** Days off everywhere (local dates). */
    holidays: z.array(isoDate).default([]),
    /** For people whose regions do not say: quiet hours and report periods. */
    timezone: timezone.default('UTC'),
  })
  .strict();

const businessDays = z.number().int().positive();
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use a 24-hour time, e.g. "18:00"');

/** Service levels, in business days of the request's region. */
const slaSchema = z
  .object({
    /** Assigned → accepted or declined within `days`; `escalateAfterDays` later, the backup and a manager are told. */
    accept: z
      .object({ days: businessDays.default(2), escalateAfterDays: businessDays.default(1) })
      .strict()
      .default({ days: 2, escalateAfterDays: 1 }),
    /** "Follow-up email sent" ticked within `days` of "Call held". */
    followUp: z
      .object({ days: businessDays.default(2) })
      .strict()
      .default({ days: 2 }),
    /** An open engagement with no activity for `days`. */
    stale: z
      .object({ days: businessDays.default(10) })
      .strict()
      .default({ days: 10 }),
    /**
     * A request waiting on its author (needs-info) with nothing done by a person for `days`: the
     * author is reminded once on the request; `closeAfterDays` after that reminder it is closed,
     * with a note saying how to reopen it. Null: never.
     */
    needsInfo: z
      .object({ days: businessDays.default(10), closeAfterDays: businessDays.default(5) })
      .strict()
      .nullable()
      .default({ days: 10, closeAfterDays: 5 }),
  })
  .strict();

const remindersSchema = z
  .object({
    /** The issue where `scale-bot remind` posts one note per person per run (created when missing). */
    issueTitle: z.string().min(1).default('Scale engagement reminders'),
    /** No reminders between `start` and `end`, local to the person (their first region's time zone). */
    quietHours: z.object({ start: clock, end: clock }).strict().nullable().default({ start: '18:00', end: '08:00' }),
    /** Nor on weekends and holidays. */
    businessDaysOnly: z.boolean().default(true),
  })
  .strict();

const reportSchema = z
  .object({
    /** The report issue's title; `{period}` becomes e.g. "2026-W48" or "2026-11". */
    title: z
      .string()
      .min(1)
      .includes('{period}', { message: 'must contain {period}, or every period would share one issue' })
      .default('Scale engagement report {period}'),
    /** Renewal this many days away or closer puts an open request on the at-risk list. */
    renewalAtRiskDays: z.number().int().positive().default(90),
    /** How many validation problems and not-qualified reasons to list. */
    top: z.number().int().positive().default(5),
  })
  .strict();

export const ROLES = ['ae', 'sal', 'cse', 'manager'] as const;
export type Role = (typeof ROLES)[number];

const absenceSchema = z.object({ from: isoDate, to: isoDate, note: z.string().optional() }).strict();

const personSchema = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a GitLab username without "@"'),
    name: z.string().optional(),
    roles: z.array(z.enum(ROLES)).min(1),
    segments: z.array(id).default([]),
    regions: z.array(id).default([]),
    capacity: z.number().int().positive().optional(),
    outOfOffice: z.array(absenceSchema).default([]),
  })
  .strict();

export const STRATEGIES = ['primary', 'round-robin', 'least-loaded'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const poolSchema = z
  .object({
    segment: id,
    region: id,
    strategy: z.enum(STRATEGIES).optional(),
    members: z.array(z.string().min(1)).min(1),
    capacity: z.number().int().positive().optional(),
    backup: z.array(z.string().min(1)).min(1),
  })
  .strict();

const conditionSchema = z.union([
  z.object({ any: z.array(id).min(1) }).strict(),
  z.object({ all: z.array(id).min(1) }).strict(),
]);
export type Condition = z.infer<typeof conditionSchema>;

export const SIGNALS = [
  'renewal-soon',
  'large-account',
  'high-growth',
  'large-account-high-growth',
  'low-utilization',
  'churn-risk',
  'expansion-potential',
  'at-risk-request',
] as const;
export type Signal = (typeof SIGNALS)[number];

const rulesSchema = z
  .object({
    /** Owner roles allowed to file a request. */
    ownerRoles: z.array(z.enum(ROLES)).default(['ae', 'sal']),
    renewalWithinMonths: z.number().int().positive().default(3),
    largeAccountArrShare: z.number().gt(0).lte(1).default(0.8),
    highGrowthLam: z.number().nonnegative().default(100_000),
    lowUtilizationPercent: z.number().gt(0).lte(100).default(75),
    utilizationAfterMonths: z.number().int().nonnegative().default(6),
    churnPropensity: z.array(z.string()).default(['high']),
    expandPropensity: z.array(z.string()).default(['high']),
    priority: z
      .object({
        levels: z.array(id).min(1).default(['high', 'medium', 'low']),
        rules: z.array(z.object({ when: conditionSchema, then: id }).strict()).default([]),
        default: id.default('low'),
      })
      .strict()
      .default({ levels: ['high', 'medium', 'low'], rules: [], default: 'low' }),
    flags: z
      .object({
        'escalation-candidate': conditionSchema.default({ any: ['large-account-high-growth'] }),
        'at-risk': conditionSchema.default({ any: ['low-utilization', 'churn-risk', 'at-risk-request'] }),
      })
      .strict()
      .default({
        'escalation-candidate': { any: ['large-account-high-growth'] },
        'at-risk': { any: ['low-utilization', 'churn-risk', 'at-risk-request'] },
      }),
  })
  .strict();

const labelsSchema = z
  .object({
    engagement: z.string().min(1).default('engagement'),
    segment: z.string().min(1).default('segment'),
    region: z.string().min(1).default('region'),
    priority: z.string().min(1).default('priority'),
    override: z.string().min(1).default('qualification::override'),
    form: z.string().min(1).default('form'),
    escalationCandidate: z.string().min(1).default('escalation::candidate'),
    // Plain labels: each flag is set on its own, so none may share a scope with another label the
    // bot sets (scoped labels are exclusive; `config check` refuses such pairs).
    atRisk: z.string().min(1).default('at-risk'),
    duplicate: z.string().min(1).default('possible-duplicate'),
    /** On the bot's own issues (reports, reminders): intake leaves them alone. */
    operations: z.string().min(1).default('scale-bot::operations'),
  })
  .strict();

const intakeSchema = z
  .object({
    /** An issue made from no template: leave it alone, or label it and explain once. */
    nonRequest: z.enum(['ignore', 'explain']).default('explain'),
    /** Engagements with one account within `historyMonths` before a new request is flagged. */
    engagementLimit: z.number().int().positive().default(3),
    historyMonths: z.number().int().positive().default(12),
  })
  .strict();

/** Which request field holds each value qualification needs (so forms can name fields freely). */
const fieldMapSchema = z
  .object({
    customer: id.default('customer_name'),
    crmAccount: id.default('crm_account'),
    arr: id.default('arr'),
    lam: id.default('lam'),
    licensesPurchased: id.default('licenses_purchased'),
    licensesInUse: id.default('licenses_in_use'),
    utilization: id.default('utilization'),
    subscriptionStart: id.default('subscription_start'),
    renewalDate: id.default('renewal_date'),
    requestType: id.default('request_type'),
    publicSector: id.default('public_sector'),
    churnPropensity: id.default('propensity_to_churn'),
    expandPropensity: id.default('propensity_to_expand'),
  })
  .strict();

export const configSchema = z
  .object({
    version: z.literal(1),
    bot: z.object({ username: z.string().min(1) }).strict(),
    fields: z.record(id, fieldDefinitionSchema),
    fieldsets: z.record(id, z.array(fieldRefSchema)).default({}),
    forms: z.record(id, formSchema),
    segments: z.record(id, segmentSchema),
    regions: z.record(id, regionSchema),
    people: z.array(personSchema).default([]),
    rules: rulesSchema.default(rulesSchema.parse({})),
    fieldMap: fieldMapSchema.default(fieldMapSchema.parse({})),
    routing: z
      .object({
        strategy: z.enum(STRATEGIES).default('least-loaded'),
        capacity: z.number().int().positive().default(10),
        pools: z.array(poolSchema).default([]),
        /** Who gets a request whose segment/region has no pool: should be a manager. */
        fallback: z.array(z.string().min(1)).min(1),
      })
      .strict(),
    labels: labelsSchema.default(labelsSchema.parse({})),
    intake: intakeSchema.default(intakeSchema.parse({})),
    calendar: calendarSchema.default(calendarSchema.parse({})),
    sla: slaSchema.default(slaSchema.parse({})),
    reminders: remindersSchema.default(remindersSchema.parse({})),
    report: reportSchema.default(reportSchema.parse({})),
  })
  .strict();

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type FieldDefinition = z.output<typeof fieldDefinitionSchema>;
export type FieldRef = z.output<typeof fieldRefSchema>;
export type Person = z.output<typeof personSchema>;
export type Pool = z.output<typeof poolSchema>;
export type SegmentConfig = z.output<typeof segmentSchema>;
export type RegionConfig = z.output<typeof regionSchema>;
export type Rules = z.output<typeof rulesSchema>;
export type LabelNames = z.output<typeof labelsSchema>;
export type FieldMap = z.output<typeof fieldMapSchema>;
export type IntakeSettings = z.output<typeof intakeSchema>;
export type CalendarSettings = z.output<typeof calendarSchema>;
export type SlaSettings = z.output<typeof slaSchema>;
export type ReminderSettings = z.output<typeof remindersSchema>;
export type ReportSettings = z.output<typeof reportSchema>;
