import { z } from 'zod';

/** Which calls share one token bucket. */
export const ThrottleKeySchema = z.enum(['user', 'user_agent', 'tool', 'tool_class']);
export type ThrottleKey = z.infer<typeof ThrottleKeySchema>;

export const ThrottleBucketSchema = z.strictObject({
  /** `user`: per delegating user; `user_agent`: per (user, acting agent); `tool`: per upstream tool
   * across callers; `tool_class`: per decision.toolClass across callers. */
  key: ThrottleKeySchema,
  /** Tokens added per minute (sustained rate). */
  ratePerMinute: z.number().positive().max(1_000_000),
  /** Bucket size: how many calls may go at once after a quiet period. */
  burst: z.number().int().min(1).max(100_000),
});
export type ThrottleBucket = z.infer<typeof ThrottleBucketSchema>;

/** `throttle:` section. Applies to calls whose decision is `throttle`. */
export const ThrottleConfigSchema = z.strictObject({
  buckets: z.array(ThrottleBucketSchema).default([{ key: 'user_agent', ratePerMinute: 30, burst: 5 }]),
  /** Longest a call is delayed (token wait + concurrency wait) before it is rejected instead. */
  maxWaitMs: z.number().int().min(0).max(600_000).default(5_000),
  /** In-flight throttled calls per principal (user + agent). */
  maxConcurrentPerPrincipal: z.number().int().min(1).max(10_000).default(4),
  /** Calls per principal that may wait at once; beyond that they are rejected immediately. */
  maxQueuedPerPrincipal: z.number().int().min(0).max(10_000).default(16),
  /** Bound on remembered bucket keys (least recently used are dropped). */
  maxKeys: z.number().int().min(100).max(10_000_000).default(100_000),
});
export type ThrottleConfig = z.infer<typeof ThrottleConfigSchema>;
