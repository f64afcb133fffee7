import { z } from 'zod';
import { ConditionSchema } from './condition-schema.js';
import { DurationSchema } from './duration.js';
import { AnomaliesSchema } from './anomalies-schema.js';
import { redactionPatternProblem } from '../audit/pattern-probe.js';
import { nameGlobProblem, regexProblem } from './pattern-checks.js';
import { ruleReasonProblem } from './rule-reason-codes.js';

export const ActionSchema = z.enum(['allow', 'throttle', 'approve', 'block']);
export const SensitivitySchema = z.enum(['low', 'medium', 'high', 'critical']);
export const ModeSchema = z.enum(['enforce', 'monitor']);
/** An action that is never `allow`: used where a default must not let a call through. */
const RestrictiveActionSchema = z.enum(['throttle', 'approve', 'block']);

function globList(kind: 'name' | 'principal') {
  return z
    .array(z.string())
    .min(1)
    .max(200)
    .superRefine((globs, ctx) => {
      globs.forEach((g, i) => {
        const problem = nameGlobProblem(g, kind);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (got '${g}')`, path: [i] });
      });
    });
}

const MatchSchema = z.strictObject({
  upstreams: globList('name').optional().describe('Upstream name globs (any matches)'),
  tools: globList('name').optional().describe('Tool name globs as the upstream names them (any matches)'),
  issuers: z
    .array(z.string().min(1))
    .min(1)
    .max(50)
    .optional()
    .describe('Token issuers (iss), compared exactly (any matches). With several trusted issuers, users and agents are only names within an issuer'),
  users: globList('principal').optional().describe('User (sub) globs'),
  agents: globList('principal').optional().describe('Acting agent (act.sub) globs, whatever the agent\'s issuer'),
  agentIssuers: z
    .array(z.string().min(1))
    .min(1)
    .max(50)
    .optional()
    .describe('Issuer of the acting agent (act.iss, or the token iss when the act names none), compared exactly (any matches)'),
  agentPresent: z.boolean().optional().describe('true: only delegated calls; false: only direct user calls'),
  claims: z.array(ConditionSchema).max(50).optional().describe('Conditions on principal claims (all must hold)'),
  scopes: z
    .strictObject({
      all: z.array(z.string()).optional(),
      any: z.array(z.string()).optional(),
      none: z.array(z.string()).optional(),
    })
    .optional(),
  arguments: z.array(ConditionSchema).max(50).optional().describe('Conditions on tool arguments (all must hold)'),
  sensitivity: z.array(SensitivitySchema).min(1).optional().describe('Computed sensitivity is one of these'),
  score: z.strictObject({ gte: z.number().optional(), lt: z.number().optional() }).optional(),
  reasons: z
    .array(z.string())
    .min(1)
    .optional()
    .superRefine((codes, ctx) => {
      // A misspelt code would leave the rule silently dead (rule-reason-codes.ts).
      codes?.forEach((code, i) => {
        const problem = ruleReasonProblem(code);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [i] });
      });
    })
    .describe('Any of these reason codes is present (codes computed before rules are matched)'),
});
export type RuleMatch = z.infer<typeof MatchSchema>;

export const RuleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected an id of 1..64 characters [A-Za-z0-9_.:-]'),
    description: z.string().max(500).optional(),
    match: MatchSchema.prefault({}),
    action: ActionSchema,
    mode: ModeSchema.optional().describe('monitor: trial this rule in an enforcing policy (shown in action, not enforced). A monitor-mode policy enforces nothing.'),
    hide: z.boolean().optional().describe('Block rules only: hide the tool from tools/list for matching principals'),
  })
  .superRefine((rule, ctx) => {
    if (rule.hide !== true) return;
    if (rule.action !== 'block') {
      ctx.addIssue({ code: 'custom', message: "'hide' requires action 'block'", path: ['hide'] });
    }
    for (const key of ['arguments', 'score', 'reasons', 'sensitivity'] as const) {
      if (rule.match[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `'hide' rules must not depend on per-call data; remove match.${key}`,
          path: ['match', key],
        });
      }
    }
  });
export type Rule = z.infer<typeof RuleSchema>;

export const ClassifySchema = z.strictObject({
  upstreams: globList('name').optional(),
  tools: globList('name'),
  level: SensitivitySchema,
  class: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional().describe('Tool class name for rate limits'),
  when: z
    .array(ConditionSchema)
    .min(1)
    .max(50)
    .optional()
    .describe('Argument conditions: the entry only raises sensitivity when all hold'),
  description: z.string().max(500).optional(),
});
export type Classify = z.infer<typeof ClassifySchema>;

const SensitivityPointsSchema = z.strictObject({
  low: z.number().min(0).max(100).default(0),
  medium: z.number().min(0).max(100).default(10),
  high: z.number().min(0).max(100).default(25),
  critical: z.number().min(0).max(100).default(40),
});

export const ThresholdsSchema = z
  .strictObject({
    throttle: z.number().min(0).max(101).default(50),
    approve: z.number().min(0).max(101).default(70),
    block: z.number().min(0).max(101).default(90),
  })
  .superRefine((t, ctx) => {
    if (!(t.throttle <= t.approve && t.approve <= t.block)) {
      ctx.addIssue({ code: 'custom', message: 'expected throttle <= approve <= block', path: [] });
    }
  });

const DefaultsSchema = z.strictObject({
  sensitivity: SensitivitySchema.default('high').describe('Sensitivity of a tool no `sensitivity` entry classifies'),
  unclassifiedAction: ActionSchema.default('approve').describe(
    'Least strict action for an unclassified tool unless a rule allows it explicitly',
  ),
  high: RestrictiveActionSchema.default('approve').describe('Floor for high sensitivity without an explicit allow rule'),
  critical: RestrictiveActionSchema.default('block').describe('Floor for critical without an explicit allow rule'),
});

const AnnotationsSchema = z.strictObject({
  destructive: SensitivitySchema.default('medium').describe('Floor when destructiveHint is true or missing'),
  openWorld: SensitivitySchema.default('low').describe('Floor when openWorldHint is true or missing'),
  nonIdempotent: SensitivitySchema.default('low').describe('Floor when idempotentHint is false or missing'),
});

const RedactSchema = z.strictObject({
  paths: z.array(z.string().min(1).max(256)).max(200).default([]),
  patterns: z
    .array(z.string())
    .max(100)
    .default([])
    .superRefine((patterns, ctx) => {
      patterns.forEach((p, i) => {
        const problem = redactionPatternProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [i] });
      });
    }),
});
export type Redact = z.infer<typeof RedactSchema>;

/** A policy file. Strict: any unknown key is a load error naming the file and key path. */
export const PolicySchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z
      .union([z.string().min(1).max(64), z.number()], {
        error: (issue) =>
          issue.input === undefined
            ? 'required: a label for this policy version, e.g. version: "1.0" (only a later file loaded on top of another, an overlay, may leave it out)'
            : 'expected a string of 1..64 characters or a number',
      })
      .describe('Your version label for this policy (optional in overlay files)'),
    description: z.string().max(2000).optional(),
    mode: ModeSchema.default('enforce'),
    defaults: DefaultsSchema.prefault({}),
    thresholds: ThresholdsSchema.prefault({}),
    scoring: z.strictObject({ sensitivity: SensitivityPointsSchema.prefault({}) }).prefault({}),
    annotations: AnnotationsSchema.prefault({}),
    anomalies: AnomaliesSchema.prefault({}),
    sensitivity: z.array(ClassifySchema).max(2000).default([]),
    rules: z.array(RuleSchema).max(5000).default([]),
    redact: RedactSchema.optional(),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.rules.forEach((r, i) => {
      const first = seen.get(r.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', message: `duplicate rule id '${r.id}' (first at rules[${first}])`, path: ['rules', i, 'id'] });
      } else seen.set(r.id, i);
    });
  });
export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

export { DurationSchema };
