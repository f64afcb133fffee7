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

/** `a.b.0.c` or `items.*.id`: dot-separated keys, numeric array indexes, `*` for every item. */
const ArgPathSchema = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+){0,15}$/, 'expected a dot path like a.b.0.c or items.*.id (at most 16 segments)');

/**
 * One test on a value found at `path` (in the tool arguments, or in the principal's claims).
 * Several values (via `*`) match when any does; `not: true` negates the result, so a missing
 * value matches a negated condition (fail safe: "path not within /data" holds for no path).
 */
export const ConditionSchema = z
  .strictObject({
    path: ArgPathSchema,
    not: z.boolean().optional().describe('Negate the result'),
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
      .array(z.string().regex(/^\//, 'expected an absolute path starting with /'))
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
