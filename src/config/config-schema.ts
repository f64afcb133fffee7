import { z } from 'zod';
import { ApprovalsConfigSchema } from '../approval/approvals-config.js';
import { AuditConfigSchema } from '../audit/audit-config.js';
import { ControlConfigSchema } from '../control/control-config.js';
import { ThrottleConfigSchema } from '../enforce/throttle-config.js';
import { EventsConfigSchema } from '../events/events-config.js';
import { IdentityConfigSchema } from '../identity/identity-config.js';
import { PinsConfigSchema } from '../pins/pins-config.js';
import { crossCheckConfig } from './cross-checks.js';

/**
 * Upstream names become tool-name prefixes (`fs__read_file`), so they use the MCP tool-name
 * alphabet without the separator's underscore pair at either end.
 */
export const UpstreamNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9.-]*(_[A-Za-z0-9.-]+)*$/,
    'upstream names start with a letter or digit and use letters, digits, ".", "-" and single "_" (no "__", no "_" at the end)',
  )
  .max(32, 'upstream names are at most 32 characters');

/**
 * A duration in ms that a timer can hold: setTimeout treats anything above 2^31-1 ms (about 24.8
 * days) as 1 ms, so a "30 days" timeout would fire at once. Refused at start-up instead.
 */
export const TimerMsSchema = z.number().int().positive().max(2 ** 31 - 1, 'at most 2147483647 ms (about 24.8 days), the longest timer Node.js can set');

/** A tool server warden launches as a child process and talks to over stdio. */
export const StdioUpstreamSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Extra environment for the child; values may reference `${VAR}` from warden's environment. */
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
});
export type StdioUpstream = z.infer<typeof StdioUpstreamSchema>;

/** A tool server reached over Streamable HTTP. */
export const HttpUpstreamSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Static headers; values may reference `${VAR}`. The agent's own token is never passed on. */
  headers: z.record(z.string(), z.string()).optional(),
});
export type HttpUpstream = z.infer<typeof HttpUpstreamSchema>;

export const UpstreamSchema = z.union([StdioUpstreamSchema, HttpUpstreamSchema]);
export type Upstream = z.infer<typeof UpstreamSchema>;

export const HttpListenSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port (tests); the bound address is reported by startWarden. */
  port: z.number().int().min(0).max(65535),
  /** Host header values accepted (DNS-rebinding protection). Defaults to host:port ([host]:port for IPv6), localhost:port, 127.0.0.1:port, [::1]:port. */
  allowedHosts: z.array(z.string()).optional(),
  /** Origin header values accepted when a browser sends one. Requests without Origin are allowed. */
  allowedOrigins: z.array(z.string()).default([]),
  /** Largest accepted POST body. Larger bodies are answered 413 before parsing. */
  maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
  /** Idle HTTP sessions (no request in flight) are closed after this many ms, even with a GET stream open. */
  sessionIdleMs: z.number().int().positive().default(30 * 60 * 1000),
  /**
   * A session with nothing open (no request in flight, no GET stream: the agent most likely went
   * away without DELETE, as the MCP SDK's client close() does) is closed after this many ms.
   */
  detachedSessionIdleMs: z.number().int().positive().default(5 * 60 * 1000),
  /** Open HTTP sessions in all; each starts its own upstream processes. Beyond: 503. */
  maxSessions: z.number().int().positive().default(64),
  /**
   * Open HTTP sessions per principal (issuer + user + actor), over all its clients and delegation
   * chains. Beyond: the requesting client's oldest unattended session is closed, else 429.
   */
  maxSessionsPerPrincipal: z.number().int().positive().default(8),
  /**
   * Open HTTP sessions per client of a principal: the same principal, delegation chain and OAuth
   * client (what a session is bound to), i.e. one app of a user. Beyond: that client's oldest
   * unattended session is closed, else 429. Absent: half of maxSessionsPerPrincipal, rounded up,
   * so one app holding all it may still leaves room for another app of the same user.
   */
  maxSessionsPerClient: z.number().int().positive().optional(),
  /**
   * Requests (any method) one HTTP session may hold unanswered at once, counting cancelled ones the
   * upstream may still be running. Beyond: 429, -32000, nothing forwarded.
   */
  maxRequestsInFlightPerSession: z.number().int().min(1).max(10_000).default(64),
  /**
   * Bytes of request bodies one principal may hold in flight at once, over all its sessions: each
   * request is charged its body's size from admission until it ends (parsed JSON takes up to ~19×
   * that in memory). Beyond: 429, -32000, nothing forwarded. At least maxBodyBytes (cross-checks.ts).
   */
  maxRequestBytesInFlightPerPrincipal: z.number().int().positive().default(32 * 1024 * 1024),
  /**
   * The same over all principals together: many identities (stolen tokens, a misbehaving fleet)
   * each within its own share could still hold maxSessions × the share. Beyond: 503, -32000,
   * nothing forwarded. At least maxBodyBytes (cross-checks.ts).
   */
  maxRequestBytesInFlight: z.number().int().positive().default(256 * 1024 * 1024),
  /**
   * TCP connections the HTTP listener holds at once, before any of them authenticates; beyond,
   * a new connection is closed at once. Without a bound, clients that open connections and send
   * nothing (or headers a byte at a time) exhaust warden's file descriptors, and with them the
   * stdio session and the upstream children. Agents hold a GET stream and a connection per
   * request in flight each. Absent: maxSessions × (maxRequestsInFlightPerSession + 1), what the
   * sessions may hold (4,160 by default), at least 1,024 (connection-limit.ts); set below that,
   * start-up warns.
   */
  maxConnections: z.number().int().min(1).max(1_000_000).optional(),
  /**
   * The same for one client address (an IPv4 address, an IPv6 /64; NAT64 and IPv4-mapped IPv6
   * addresses as the IPv4 client they stand for, see addressGroup): one host must not take all
   * of maxConnections and lock every other agent out. Behind a reverse proxy every agent comes
   * from the proxy's address: raise it to maxConnections there.
   */
  maxConnectionsPerAddress: z.number().int().min(1).max(1_000_000).default(256),
  /** With dangerouslyAllowAnonymous: accept a non-loopback host anyway (anyone reaching the port is a caller). */
  dangerouslyAllowNonLoopback: z.boolean().default(false),
});
export type HttpListen = z.infer<typeof HttpListenSchema>;

export const ListenSchema = z
  .strictObject({
    /** Serve the agent that launched warden over stdin/stdout. */
    stdio: z.boolean().default(true),
    http: HttpListenSchema.optional(),
  })
  .refine((l) => l.stdio || l.http !== undefined, 'listen on stdio, http or both');
export type Listen = z.infer<typeof ListenSchema>;

export const TimeoutsSchema = z.strictObject({
  /** Upper bound for one forwarded tools/call; then warden cancels upstream and answers -32001. */
  callMs: TimerMsSchema.default(60_000),
  /** Upper bound for every other forwarded request (lists, reads, prompts...). */
  requestMs: TimerMsSchema.default(30_000),
  /** Upper bound for starting and initializing one upstream. */
  initializeMs: TimerMsSchema.default(20_000),
});
export type Timeouts = z.infer<typeof TimeoutsSchema>;

export const LoggingSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Log to this file instead of stderr. Never stdout: in stdio mode stdout is the protocol. */
  file: z.string().optional(),
});

export const LimitsSchema = z.strictObject({
  /** Largest single JSON-RPC message accepted from the agent over stdio. */
  maxMessageBytes: z.number().int().positive().default(4 * 1024 * 1024),
  /** Largest single message accepted from an upstream, stdio or HTTP (results can be big). */
  maxUpstreamMessageBytes: z.number().int().positive().default(32 * 1024 * 1024),
  /**
   * Output warden holds for one peer (an agent session, an upstream child's stdin) that does not
   * read it, beyond the largest single message among it. A peer past it is ended: its memory is
   * every session's memory.
   */
  maxBufferedOutputBytes: z.number().int().min(64 * 1024).default(16 * 1024 * 1024),
});

/** Which policy files are in force. Relative paths resolve against the config file's folder. */
export const PolicySectionSchema = z.strictObject({
  /** Policy files, merged in order; empty means the bundled `policies/default.yaml`. */
  files: z.array(z.string().min(1)).default([]),
  /** Reload on change (SIGHUP always reloads). */
  watch: z.boolean().default(true),
  /**
   * A decision slower than this blocks the call (fail closed) and is audited `decision_budget_exceeded`.
   * Decisions take microseconds; the budget only catches a stalled state store or pathological input,
   * so it is generous enough for a loaded machine.
   */
  decisionBudgetMs: z.number().int().min(1).max(10_000).default(1_000),
});
export type PolicySection = z.infer<typeof PolicySectionSchema>;

/** Bounds of the in-memory state store (rate windows, baselines, grants, revocations). */
export const StateSectionSchema = z.strictObject({
  maxEntries: z.number().int().min(1_000).max(50_000_000).default(200_000),
  /**
   * Revocations, step-ups and claim overrides (from `warden revoke` and security events) are kept
   * here so a restart does not forget them; wardens sharing the file share them. `null` keeps
   * them in memory only (they end with the process).
   */
  revocationsFile: z.string().min(1).nullable().default('.warden/revocations.json'),
});

/**
 * The whole `warden.yaml`. One strict object so a typo anywhere is a load error naming the key;
 * other areas add their sections here (identity, policy, audit, ...).
 */
export const WardenConfigSchema = z
  .strictObject({
    upstreams: z
      .record(UpstreamNameSchema, UpstreamSchema)
      .refine((u) => Object.keys(u).length > 0, 'at least one upstream is required'),
    listen: ListenSchema.default({ stdio: true }),
    timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
    logging: LoggingSchema.default({ level: 'info' }),
    limits: LimitsSchema.default(LimitsSchema.parse({})),
    /** Unsafe: accept every caller as the anonymous principal. Local development only. */
    dangerouslyAllowAnonymous: z.boolean().default(false),
    /** Who may call: trusted token issuers (see the identity section of the README). */
    identity: IdentityConfigSchema.optional(),
    policy: PolicySectionSchema.prefault({}),
    audit: AuditConfigSchema.prefault({}),
    throttle: ThrottleConfigSchema.prefault({}),
    approvals: ApprovalsConfigSchema.prefault({}),
    control: ControlConfigSchema.prefault({}),
    /** Security Event Token receiver (Shared Signals / CAEP). Absent: no receiver, manual revocation still works. */
    events: EventsConfigSchema.optional(),
    pins: PinsConfigSchema.prefault({}),
    state: StateSectionSchema.prefault({}),
  })
  .superRefine(crossCheckConfig);
export type WardenConfig = z.infer<typeof WardenConfigSchema>;
