import { z } from 'zod';
import { DEFAULT_AUTH_FAILURE_LIMITS } from './auth-failure-limiter.js';

/** Host names that only reach this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

export const DEFAULT_ADMIN_TOKEN_FILE = '.warden/admin-token';

/** `control:` section: the local operator API (approvals, grants, and routes from other areas). */
export const ControlConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    /**
     * 0 (default): a free port, advertised in `control-url` beside the admin token file so the CLIs
     * find it; several stdio wardens (one per agent) can then run side by side.
     */
    port: z.number().int().min(0).max(65_535).default(0),
    /** Listen on this Unix socket (mode 0600) instead of TCP. */
    socketPath: z.string().min(1).optional(),
    /** Where the admin credential is read from, or written to (mode 0600) when generated. */
    adminTokenFile: z.string().min(1).default(DEFAULT_ADMIN_TOKEN_FILE),
    /** Read the admin credential from this environment variable instead (nothing is written). */
    adminTokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
    /** `Origin` values accepted (exact match, e.g. `http://localhost:5173`). Any other Origin → 403. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    maxBodyBytes: z.number().int().min(256).max(10 * 1024 * 1024).default(65_536),
    /**
     * Back-off after failed authentications, per source address (see auth-failure-limiter.ts):
     * after `maxFailures` wrong credentials the address gets 429 with Retry-After, its credentials
     * unchecked, for `lockoutMs`, doubled by each further failure up to `maxLockoutMs`.
     */
    authFailures: z
      .strictObject({
        maxFailures: z.number().int().min(1).max(100).default(DEFAULT_AUTH_FAILURE_LIMITS.maxFailures),
        lockoutMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_AUTH_FAILURE_LIMITS.lockoutMs),
        maxLockoutMs: z.number().int().min(100).max(86_400_000).default(DEFAULT_AUTH_FAILURE_LIMITS.maxLockoutMs),
        forgetAfterMs: z.number().int().min(1_000).max(86_400_000).default(DEFAULT_AUTH_FAILURE_LIMITS.forgetAfterMs),
      })
      .refine((a) => a.maxLockoutMs >= a.lockoutMs, { message: 'maxLockoutMs must be at least lockoutMs', path: ['maxLockoutMs'] })
      .default({
        maxFailures: DEFAULT_AUTH_FAILURE_LIMITS.maxFailures,
        lockoutMs: DEFAULT_AUTH_FAILURE_LIMITS.lockoutMs,
        maxLockoutMs: DEFAULT_AUTH_FAILURE_LIMITS.maxLockoutMs,
        forgetAfterMs: DEFAULT_AUTH_FAILURE_LIMITS.forgetAfterMs,
      }),
    /** Listen on a non-loopback address. Exposes approval power to the network: leave off. */
    dangerouslyAllowNonLoopback: z.boolean().default(false),
  })
  .refine((c) => c.dangerouslyAllowNonLoopback || LOOPBACK_HOSTS.includes(c.host), {
    message: 'control.host must be a loopback address (127.0.0.1, ::1, localhost)',
    path: ['host'],
  });
export type ControlConfig = z.infer<typeof ControlConfigSchema>;
