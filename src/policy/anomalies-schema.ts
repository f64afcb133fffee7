import { z } from 'zod';
import { ArgPathSchema } from './condition-schema.js';
import { DurationSchema } from './duration.js';
import { nameGlobProblem } from './pattern-checks.js';

const Weight = z.number().min(0).max(100);
const Limit = z.number().int().positive().nullable();

const RateSchema = z.strictObject({
  window: DurationSchema.default('1m'),
  perTool: Limit.default(60).describe('Calls per window to one tool by one user+agent (null: no limit)'),
  perClass: z.record(z.string(), z.number().int().positive()).default({}).describe('Calls per window per tool class'),
  overall: Limit.default(300).describe('Calls per window by one user+agent'),
  perUser: Limit.default(600).describe('Calls per window by one user across all agents'),
  weight: Weight.default(30),
});

const BurstSchema = z.strictObject({
  bucket: DurationSchema.default('1m'),
  factor: z.number().min(1).default(5).describe('Current bucket count >= factor x baseline is a burst'),
  minBaseline: z.number().min(0).default(5).describe('Baseline floor (calls per bucket), so idle agents do not trip it'),
  minSamples: z.number().int().min(1).default(3).describe('Buckets of history needed before bursts count'),
  alpha: z.number().gt(0).max(1).default(0.3).describe('EWMA smoothing factor'),
  weight: Weight.default(20),
});

const VolumeSchema = z.strictObject({
  window: DurationSchema.default('10m'),
  maxBytes: Limit.default(5_000_000),
  maxItems: Limit.default(1000),
  maxDistinctResources: Limit.default(200),
  perUserMaxBytes: Limit.default(null).describe('Result bytes per window to one user across all agents'),
  perUserMaxItems: Limit.default(null).describe('Result items per window to one user across all agents'),
  resourceArgs: z.array(z.string().min(1).max(64)).max(50).default(['path', 'paths', 'uri', 'url', 'id', 'file', 'source', 'destination']),
  weight: Weight.default(30),
});

const NoveltyArgumentSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]{1,32}$/, 'expected a short lowercase name such as payee'),
  tools: z.array(z.string()).min(1).superRefine((globs, ctx) => {
    globs.forEach((g, i) => {
      const problem = nameGlobProblem(g);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (got '${g}')`, path: [i] });
    });
  }),
  // The conditions' path syntax: `**` before the end finds nothing, so the payee would never be new.
  path: ArgPathSchema,
  weight: Weight.default(20),
});

const NoveltySchema = z.strictObject({
  toolWeight: Weight.default(10).describe('First use of a tool by this user+agent'),
  remember: DurationSchema.default('90d'),
  arguments: z.array(NoveltyArgumentSchema).max(50).default([]),
});

const HoursSchema = z
  .strictObject({
    timezone: z.string().default('UTC'),
    start: z.number().int().min(0).max(23).default(7),
    end: z.number().int().min(1).max(24).default(20),
    days: z.array(z.number().int().min(0).max(6)).default([1, 2, 3, 4, 5]).describe('0 = Sunday'),
    weight: Weight.default(10),
  })
  .superRefine((h, ctx) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: h.timezone });
    } catch {
      ctx.addIssue({ code: 'custom', message: `unknown IANA timezone '${h.timezone}'`, path: ['timezone'] });
    }
    if (h.start >= h.end) ctx.addIssue({ code: 'custom', message: 'expected start < end', path: ['end'] });
  });

const ContextSchema = z.strictObject({
  addressChangeWeight: Weight.default(30),
  clientChangeWeight: Weight.default(20),
  maxTokenAge: DurationSchema.nullable().default(null),
  tokenAgeWeight: Weight.default(15),
  maxAuthAge: DurationSchema.nullable().default(null).describe('Longest time since the user last authenticated (auth_time)'),
  authAgeWeight: Weight.default(20),
  hours: HoursSchema.optional(),
});

export const AnomaliesSchema = z.strictObject({
  rate: RateSchema.prefault({}),
  burst: BurstSchema.prefault({}),
  volume: VolumeSchema.prefault({}),
  novelty: NoveltySchema.prefault({}),
  context: ContextSchema.prefault({}),
});
export type Anomalies = z.infer<typeof AnomaliesSchema>;
