import { z } from 'zod';
import { isSecureKeyUrl } from '../identity/identity-config.js';

const SensitivitySchema = z.enum(['low', 'medium', 'high', 'critical']);

/** What warden does when an event of a type arrives (and its trigger condition holds). */
export const ReactionSchema = z.enum(['revoke', 'step_up', 'claims', 'ignore']);
export type Reaction = z.infer<typeof ReactionSchema>;

/** Where the transmitter's signing keys come from. Exactly one source. */
export const TransmitterKeysSchema = z.union([
  // Whoever can swap these keys can sign SETs (revoke anyone, set claims): https, or loopback http.
  z.strictObject({
    jwksUrl: z.url().refine((u) => isSecureKeyUrl(u), { message: 'jwksUrl must use https (http only for localhost/127.0.0.1/[::1])' }),
  }),
  z.strictObject({ jwksFile: z.string().min(1) }),
  z.strictObject({ publicKeyPemFile: z.string().min(1) }),
]);
export type TransmitterKeys = z.infer<typeof TransmitterKeysSchema>;

export const TransmitterSchema = z.strictObject({
  /** Exact `iss` of the SETs (a trailing slash counts). */
  issuer: z.string().min(1),
  /** Our receiver identifier: the `aud` the transmitter puts into SETs. */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  keys: TransmitterKeysSchema,
  /** Asymmetric algorithms only: a shared-secret SET would let anyone holding it forge revocations. */
  algorithms: z
    .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']))
    .min(1)
    .default(['RS256', 'ES256']),
});

/** Optional push authorization: the transmitter must send `Authorization: Bearer <token>`. */
export const PushAuthorizationSchema = z.union([
  z.strictObject({ tokenFile: z.string().min(1) }),
  z.strictObject({ tokenEnv: z.string().min(1) }),
]);

export const EventsConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8788),
      path: z.string().startsWith('/').default('/events'),
    })
    .prefault({}),
  transmitter: TransmitterSchema,
  authorization: PushAuthorizationSchema.optional(),
  /** Request bodies above this are refused before parsing. */
  maxBodyBytes: z.number().int().min(256).max(1_048_576).default(65_536),
  /**
   * What the receiver holds for senders at once, whoever they are (see request-slots.ts): requests
   * being received or processed (503 beyond; bodies then take at most `maxRequests × maxBodyBytes`),
   * per source address (429 beyond), and open connections (further ones are dropped).
   */
  limits: z
    .strictObject({
      maxRequests: z.number().int().min(1).max(1_000).default(16),
      maxRequestsPerSource: z.number().int().min(1).max(1_000).default(4),
      maxConnections: z.number().int().min(1).max(100_000).default(256),
    })
    .refine((l) => l.maxRequestsPerSource <= l.maxRequests, { message: 'maxRequestsPerSource must not exceed maxRequests', path: ['maxRequestsPerSource'] })
    .refine((l) => l.maxConnections >= l.maxRequests, { message: 'maxConnections must be at least maxRequests', path: ['maxConnections'] })
    .prefault({}),
  clockToleranceSeconds: z.number().int().min(0).max(600).default(60),
  /**
   * How long a seen `jti` is remembered. SETs whose `iat` is older than this are refused, so a
   * replay can never outlive the duplicate check.
   */
  replayWindowSeconds: z.number().int().min(60).default(86_400),
  /** How long revocations and step-ups are kept. Must cover the longest access-token lifetime. */
  retentionSeconds: z.number().int().min(60).default(86_400),
  subjects: z
    .strictObject({
      /** Principal claim holding the e-mail address matched by `email` subjects. */
      emailClaim: z.string().min(1).default('email'),
      /** Principal claim holding the device id matched by `device` members of complex subjects. */
      deviceClaim: z.string().min(1).default('device_id'),
    })
    .prefault({}),
  reactions: z
    .strictObject({
      'session-revoked': ReactionSchema.default('revoke'),
      'credential-change': ReactionSchema.default('revoke'),
      'assurance-level-change': ReactionSchema.default('step_up'),
      'device-compliance-change': ReactionSchema.default('step_up'),
      'risk-level-change': ReactionSchema.default('step_up'),
      'token-claims-change': ReactionSchema.default('claims'),
    })
    .prefault({}),
  /** `credential-change` only reacts to these `change_type`s. */
  credentialChangeTypes: z.array(z.string().min(1)).default(['revoke', 'delete']),
  stepUp: z
    .strictObject({
      /** Calls at or above this sensitivity need a step-up. */
      minSensitivity: SensitivitySchema.default('high'),
      action: z.enum(['approve', 'block']).default('approve'),
    })
    .prefault({}),
  levels: z
    .strictObject({
      /**
       * Assurance levels, lowest first (compared case-insensitively): one list, or several (one per
       * namespace). Levels are compared only within a list: aal3 and nist-aal1 are not ordered.
       */
      assurance: z
        .union([z.array(z.string().min(1)).min(2), z.array(z.array(z.string().min(1)).min(2)).min(1)])
        .default([
          ['aal1', 'aal2', 'aal3'],
          ['nist-aal1', 'nist-aal2', 'nist-aal3'],
        ]),
      /** Risk levels, lowest first (compared case-insensitively). */
      risk: z.array(z.string().min(1)).min(2).default(['low', 'medium', 'high']),
    })
    .prefault({}),
});
export type EventsConfig = z.infer<typeof EventsConfigSchema>;
export type EventsConfigInput = z.input<typeof EventsConfigSchema>;
