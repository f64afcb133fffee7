import { z } from 'zod';
import { regexProblem, valueGlobProblem } from './pattern-checks.js';

export const ScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** The operators a condition can use; exactly one per condition. */
export const CONDITION_OPERATORS = [
  'eq',
  'in',
  'gt',
  'gte',
  'lt',
  'lte',
  'regex',
  'glob',
  'within',
  'contains',
  'exists',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/**
 * `a.b.0.c`, `items.*.id` or `**`: dot-separated keys, numeric array indexes, `*` for every
 * item or property, and `**` (last segment only) for every scalar nested at any depth below.
 */
export const ArgPathSchema = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+){0,15}$/, 'expected a dot path like a.b.0.c, items.*.id or ** (at most 16 segments)')
  .refine((p) => !p.split('.').slice(0, -1).includes('**'), "'**' may only be the last segment of a path");

/** Absolute POSIX (`/workspace`) or Windows drive (`C:\work`, `C:/work`) directory. */
const RootSchema = z
  .string()
  .regex(/^(\/|[A-Za-z]:[\\/])/, 'expected an absolute path starting with / (or a Windows drive like C:\\)');

/**
 * One test on the values found at `path` (one dot path, or a list whose values are pooled) in
 * the tool arguments or the principal's claims. How several values combine depends on where
 * the condition is used (see compile-condition.ts): a restricting rule fires when any value
 * meets it, an allow rule only when every value does, claims keep membership semantics.
 */
export const ConditionSchema = z
  .strictObject({
    path: z
      .union([ArgPathSchema, z.array(ArgPathSchema).min(1).max(20)])
      .describe('Dot path (a.b.0.c, items.*.id, **) or a list of them whose values are pooled'),
    not: z.boolean().optional().describe('Negate the test for each value'),
    nocase: z
      .boolean()
      .optional()
      .describe('Compare strings ignoring case (eq, in, contains, regex, glob, within)'),
    eq: ScalarSchema.optional().describe('Equal to this value (numbers also match numeric strings)'),
    in: z.array(ScalarSchema).min(1).max(1000).optional().describe('Equal to one of these values'),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    regex: z.string().optional().describe('Regular expression tested against a string value'),
    flags: z.string().regex(/^[imsu]{0,4}$/, 'expected regex flags from i, m, s, u').optional(),
    glob: z.string().optional().describe('picomatch glob tested against a string value'),
    within: z
      .array(RootSchema)
      .min(1)
      .max(100)
      .optional()
      .describe('Normalised path is inside one of these absolute directories'),
    contains: ScalarSchema.optional().describe('Array contains this value, or string contains this substring'),
    exists: z.boolean().optional().describe('Value is present (true) or absent (false)'),
  })
  .superRefine((c, ctx) => {
    const ops = CONDITION_OPERATORS.filter((op) => c[op] !== undefined);
    if (ops.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `expected exactly one operator of ${CONDITION_OPERATORS.join(', ')}; found ${ops.length === 0 ? 'none' : ops.join(', ')}`,
        path: [],
      });
    }
    if (c.nocase !== undefined && (c.exists !== undefined || [c.gt, c.gte, c.lt, c.lte].some((n) => n !== undefined))) {
      ctx.addIssue({ code: 'custom', message: "'nocase' only applies to eq, in, contains, regex, glob and within", path: ['nocase'] });
    }
    if (c.flags !== undefined && c.regex === undefined) {
      ctx.addIssue({ code: 'custom', message: "'flags' only applies with 'regex'", path: ['flags'] });
    }
    if (c.regex !== undefined) {
      const problem = regexProblem(c.regex, c.flags);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['regex'] });
    }
    if (c.glob !== undefined) {
      const problem = valueGlobProblem(c.glob);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['glob'] });
    }
  });
export type Condition = z.infer<typeof ConditionSchema>;
