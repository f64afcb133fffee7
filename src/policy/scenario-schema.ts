import { z } from 'zod';
import { ActionSchema, SensitivitySchema } from './policy-schema.js';
import { DurationSchema } from './duration.js';

/**
 * An object of data as an agent or a token would send it (step arguments, annotations, claims),
 * kept exactly: `z.record` drops an own `__proto__` key, so a scenario meant to show that
 * `{ "__proto__": { "admin": true } }` in the arguments grants nothing would test an object
 * without it. JSON.parse and the YAML parser both make `__proto__` an ordinary own key, as it
 * arrives in a real call.
 */
const DataObjectSchema = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype,
  { message: 'expected an object' },
);

const PrincipalSpecSchema = z.strictObject({
  user: z.string().min(1),
  agent: z.string().min(1).optional(),
  agentIssuer: z.string().min(1).optional().describe("The agent's issuer (act.iss); needs agent"),
  issuer: z.string().default('https://idp.example.com'),
  claims: DataObjectSchema.default({}),
  scopes: z.array(z.string()).default([]),
  address: z.string().default('10.0.0.1'),
  client: z.string().default('scenario-client/1.0'),
  session: z.string().optional().describe('Session id (default: one per principal)'),
  authAgo: DurationSchema.default('5m').describe('auth_time this long before the scenario start'),
  issuedAgo: DurationSchema.default('5m').describe('Token iat this long before the scenario start'),
});
export type PrincipalSpec = z.infer<typeof PrincipalSpecSchema>;

const ExpectObjectSchema = z.strictObject({
  action: ActionSchema.optional(),
  enforced: ActionSchema.optional(),
  sensitivity: SensitivitySchema.optional(),
  reasons: z.array(z.string()).optional().describe('Reason codes that must be present'),
  absent: z.array(z.string()).optional().describe('Reason codes that must not be present'),
  rules: z.array(z.string()).optional().describe('Rule ids that must have fired'),
  absentRules: z.array(z.string()).optional().describe('Rule ids that must not have fired'),
  scoreAtLeast: z.number().optional(),
  scoreBelow: z.number().optional(),
});
export const ExpectSchema = z.union([ActionSchema, ExpectObjectSchema]);
export type Expect = z.infer<typeof ExpectSchema>;

const StepSchema = z.strictObject({
  name: z.string().optional(),
  as: z.string().min(1).describe('A key of `principals`'),
  at: DurationSchema.optional().describe('Offset from the scenario start'),
  after: DurationSchema.optional().describe('Offset from the previous step (default 1s)'),
  upstream: z.string().optional(),
  tool: z.string().min(1),
  arguments: DataObjectSchema.default({}),
  annotations: DataObjectSchema.optional(),
  address: z.string().optional(),
  client: z.string().optional(),
  session: z.string().optional(),
  result: z
    .strictObject({
      bytes: z.number().int().nonnegative().default(0),
      items: z.number().int().nonnegative().default(0),
      status: z.enum(['ok', 'tool_error', 'error']).default('ok'),
    })
    .optional()
    .describe('What the upstream returns when the call is forwarded (default ok, empty)'),
  granted: z.boolean().default(false).describe('When the decision is approve, a human grants it (the call is forwarded)'),
  repeat: z.number().int().min(1).max(10_000).default(1),
  every: DurationSchema.default('1s'),
  expect: ExpectSchema.optional().describe('Checked on every repetition (except the last when expectLast is set)'),
  expectLast: ExpectSchema.optional(),
});
export type Step = z.infer<typeof StepSchema>;

/** A scripted agent scenario: principals calling tools over time with expected decisions. */
export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  policy: z.union([z.string(), z.array(z.string()).min(1)]).describe('Policy file(s), relative to this file'),
  start: z.iso.datetime({ offset: true }).default('2026-01-05T10:00:00Z'),
  upstream: z.string().default('acme'),
  principals: z.record(z.string(), PrincipalSpecSchema),
  steps: z.array(StepSchema).min(1).max(1000),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
