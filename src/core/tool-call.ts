import type { Principal } from './principal.js';
import type { MaybePromise } from './maybe-promise.js';
import type { DefinitionList } from './definition-lists.js';
import type { UpstreamErrorFields } from './upstream-error.js';

/** Tool annotations as listed by an upstream. Untrusted hints (see GUIDE §2). */
export interface ToolAnnotations {
  readonly title?: string;
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
  readonly idempotentHint?: boolean;
  readonly openWorldHint?: boolean;
}

/** A tool definition as the upstream listed it (original, un-namespaced name). */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
  readonly annotations?: ToolAnnotations;
  readonly [extra: string]: unknown;
}

/**
 * What an agent request judged by the guard is: a `tools/call` of an upstream's tool, or a
 * request warden judges as a call of a virtual tool of the same name (see virtual-tools.ts).
 */
export type JudgedAction = 'tools/call' | 'resources/read' | 'prompts/get' | 'completion/complete' | 'resources/subscribe';

/**
 * Everything the guard needs to judge one `tools/call`, or one request judged as a call of a
 * virtual tool (`action`). Built by the proxy, read-only after.
 */
export interface ToolCallRequest {
  /** Warden's own id for this call; every audit record of the call carries it. */
  readonly callId: string;
  /**
   * What is judged. `tools/call`: the upstream's own tool `tool`. Anything else: the virtual tool
   * named after the method (`tool` equals `action`), whose definition warden made itself. Lets
   * the guard tell a virtual tool from an upstream tool that happens to carry the same name.
   */
  readonly action: JudgedAction;
  /** Warden's downstream (agent-facing) session id. */
  readonly sessionId: string;
  readonly principal: Principal;
  /** Upstream name from the config. */
  readonly upstream: string;
  /** Tool name as the upstream knows it; for a virtual tool, its name (the method). */
  readonly tool: string;
  /** Tool name as the agent called it (namespaced when there are several upstreams). */
  readonly exposedName: string;
  /** Arguments as sent by the agent. Plain data; never merged into other objects. */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The definition last listed by the upstream, if known; warden's own for a virtual tool. */
  readonly toolDefinition: ToolDefinition | undefined;
  readonly transport: 'stdio' | 'http';
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly clientInfo: { readonly name: string; readonly version: string } | undefined;
  /** The agent's own progress token, when it sent one. */
  readonly progressToken: string | number | undefined;
  /** ms since epoch when warden received the call. */
  readonly receivedAt: number;
  /** Aborted when the agent cancels the call or its session ends. */
  readonly signal: AbortSignal;
  /** Sends `notifications/progress` to the agent with its own token; undefined without a token. */
  readonly sendProgress: ((progress: number, total?: number, message?: string) => void) | undefined;
  /**
   * Stdio: the principal of the process token in force now (re-read and verified; undefined when
   * it is not valid). The agent presents no token per call there: the token file is refreshed
   * beside it, so a call that waited past its token's `exp` stands on the token in force now.
   * Absent over HTTP: a call stands on the token its own request carried.
   */
  readonly currentPrincipal?: () => MaybePromise<Principal | undefined>;
  /**
   * Whether the upstream announced the list of the definitions this request is judged against
   * (its tool's, the prompt's or the resource template's) changed since the request was
   * admitted (`notifications/…/list_changed`). Read only by a call that waited: a person
   * approved it as the definition stood. Absent: nothing to compare (as good as unchanged).
   */
  readonly definitionsChanged?: () => boolean;
  /**
   * Whether the upstream this request was admitted against was replaced since (a crashed child
   * restarted, a new HTTP session): the new process may offer something else under the name the
   * request was judged by. Read before every forward. Absent: nothing to compare.
   */
  readonly upstreamRestarted?: () => boolean;
}

/** What happened upstream once a call was forwarded. Fed back for volume anomalies and audit. */
export interface UpstreamOutcome {
  readonly status: 'ok' | 'tool_error' | 'error' | 'timeout' | 'cancelled';
  readonly durationMs: number;
  /** Size of the serialised result in bytes (0 when there is none). */
  readonly resultBytes: number;
  /** Number of content items (and structured array items) in the result. */
  readonly resultItems: number;
  /** The raw result when status is `ok` or `tool_error`. */
  readonly result: unknown;
  /**
   * `sha256:` digest of the result's canonical JSON, when the proxy computed it together with
   * `resultBytes` (one serialisation of a possibly large result instead of two).
   */
  readonly resultDigest?: string;
  /**
   * JSON-RPC error when status is `error` (or `timeout`): the upstream's, checked
   * (upstream-error.ts), so a code that is not an integer is a fixed marker.
   */
  readonly error?: UpstreamErrorFields;
  /**
   * Status `cancelled` of a call already forwarded: the upstream was told to stop, but need not
   * honour that, so the call may still be running there. Resolves (never rejects) once the
   * upstream is done with it: its late answer arrived (dropped, never relayed to the agent), the
   * call's `timeouts.callMs` from forwarding passed, or the upstream connection ended (crash,
   * restart, session end). Absent: nothing runs upstream any more. What a call holds for as long
   * as it runs (a throttle concurrency slot) is released then, not at the cancel.
   */
  readonly settled?: Promise<void>;
}

/** The guard's answer. Only `forward` lets a call reach an upstream. */
export type GuardVerdict =
  | {
      readonly kind: 'forward';
      /** Called exactly once with what the upstream did. Must not throw. */
      readonly onOutcome?: (outcome: UpstreamOutcome) => void;
      /**
       * The call needed a person and a remembered grant answered instead: no person saw this
       * call, so a step-up asking for one that came into force meanwhile refuses it.
       */
      readonly byGrant?: boolean;
    }
  /** Answer the agent with this `CallToolResult` (blocks and denials: `isError: true`). */
  | { readonly kind: 'respond'; readonly result: Record<string, unknown> }
  /** Answer the agent with a JSON-RPC error (unknown or hidden tool: -32602). */
  | { readonly kind: 'error'; readonly code: number; readonly message: string; readonly data?: unknown };

/** Listed definitions other than tools that pins judge: prompts and resource templates. */
export type ListedKind = 'prompt' | 'resourceTemplate';

/** A prompt or resource template as the upstream listed it (original, un-namespaced name). */
export interface ListedDefinition {
  readonly name: string;
  readonly [field: string]: unknown;
}

/**
 * Whether a listed prompt or resource template may reach the model, and if not, why (see the
 * pins' listing rule): `changed`, `new`, `poisoned`, or `unseen` (not in the upstream's listing
 * as last judged).
 */
export type DefinitionListing = { readonly listed: true } | { readonly listed: false; readonly why: 'changed' | 'new' | 'poisoned' | 'unseen' };

/**
 * A resource subscription the agent made and warden keeps for it (the upstream sends updates for
 * it, and it is restored after the upstream restarts), as the guard re-judges it.
 */
export interface StandingSubscription {
  readonly sessionId: string;
  /** Who holds it now (stdio: the principal of the token last checked). */
  readonly principal: Principal;
  readonly upstream: string;
  readonly uri: string;
  /** The policy in force when the agent's request was judged; undefined when unknown. */
  readonly judgedUnder: string | undefined;
  readonly transport: 'stdio' | 'http';
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly clientInfo: { readonly name: string; readonly version: string } | undefined;
}

/**
 * Why warden re-judges the standing subscriptions: a policy reload, an upstream that restarted,
 * or a security event that changed the caller's standing without revoking it (a step-up, new claims).
 */
export type StandingOccasion = 'policy_reload' | 'upstream_restart' | 'security_event';

/** Session lifecycle as the proxy sees it, for audit, revocation and operators. */
export interface SessionInfo {
  readonly sessionId: string;
  readonly principal: Principal;
  readonly transport: 'stdio' | 'http';
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly openedAt: number;
}

/**
 * The single hook the proxy calls for every `tools/call` (and list filtering).
 * The proxy treats a throw or a rejected promise as a block (fail closed).
 */
export interface Guard {
  /** A verdict at once when nothing needs waiting for (the usual allow), else a promise. */
  checkToolCall(req: ToolCallRequest): MaybePromise<GuardVerdict>;
  /**
   * False for tools this principal may never call, and for tools whose listed definition nobody
   * accepted (pins): they are left out of `tools/list`.
   * `tool` is the upstream's own (un-namespaced) name. A throw hides the whole list (fail closed).
   */
  isToolVisible?(principal: Principal, sessionId: string, upstream: string, tool: string): boolean;
  /**
   * Tool definitions as freshly listed by an upstream (for pinning), before `isToolVisible` filters
   * that same answer. `page` says where a paginated listing's batch sits; omitted = the whole list.
   */
  onToolsListed?(upstream: string, tools: readonly ToolDefinition[], page?: { readonly first: boolean; readonly last: boolean }): void;
  /**
   * Prompts or resource templates as freshly listed by an upstream (for pinning), before
   * `definitionListing` judges that same answer. `page` as for `onToolsListed`.
   */
  onDefinitionsListed?(kind: ListedKind, upstream: string, defs: readonly ListedDefinition[], page?: { readonly first: boolean; readonly last: boolean }): void;
  /**
   * Whether a prompt or resource template may be shown as last listed (pins): one that is not is
   * left out of `prompts/list` / `resources/templates/list`; `prompts/get` of such a prompt, a
   * `resources/read` of a URI such a template claims (not listed as a concrete resource), and
   * `completion/complete` of either are refused. A throw hides the whole list, or refuses the request (fail closed).
   */
  definitionListing?(kind: ListedKind, upstream: string, name: string): DefinitionListing;
  /**
   * A URI as the audit records it where it names one outside `call.received` (a read or
   * subscription the pins refuse): redacted as the virtual tool's `uri` argument is, by the
   * policy's paths and patterns too. Called only for a refusal, never for an allowed call.
   */
  auditedUri?(uri: string): string;
  /**
   * Stdio: whether the session's principal may make a request other than a tool call (lists,
   * resources, prompts, completions): undefined admits it, a reason code refuses it (HTTP checks
   * this when it authenticates each request). A throw refuses it too.
   */
  requestStanding?(principal: Principal, sessionId: string): string | undefined;
  onSessionOpened?(session: SessionInfo): void;
  onSessionClosed?(session: SessionInfo, reason: string): void;
  /**
   * An upstream of this session announced a list of its definitions changed (list_changed):
   * requests of the session judged against that list and waiting for a person are withdrawn
   * (the person would approve what the definition no longer is). `seen` `listed`: not announced,
   * found by listing the upstream again (a silent rewrite).
   */
  onDefinitionsChanged?(sessionId: string, upstream: string, list: DefinitionList, seen?: 'announced' | 'listed'): void;
  /**
   * An upstream of this session was replaced (a crashed child restarted, a new HTTP session):
   * requests of the session to it that wait for a person are withdrawn. They were judged against
   * the old process and are refused after any answer (upstream_restarted).
   */
  onUpstreamRestarted?(sessionId: string, upstream: string): void;
  /** The hash of the policy in force now (what a subscription is remembered as judged under). */
  policyHash?(): string | undefined;
  /**
   * Whether a standing subscription may go on, judged as a `resources/subscribe` of it would be
   * now but counting nothing against the agent (rate, burst, novelty): `end` when its caller is
   * revoked or the decision is approve or block (see standing-check.ts); audits what it ends (and,
   * in monitor mode, what it would have ended). The proxy ends it on `end` and on a rejection.
   */
  recheckSubscription?(sub: StandingSubscription, occasion: StandingOccasion): Promise<'keep' | 'end'>;
  /** Audits a standing subscription ended because its caller was revoked (`eventId`: the revocation's event). */
  subscriptionEnded?(sub: StandingSubscription, eventId: string): void;
  /**
   * Whether `principal`'s token is accepted now: its `exp` (plus its issuer's clock tolerance)
   * against warden's clock; true for one without `exp`. A standing subscription whose caller's
   * token is not ends (`subscriptionExpired`). A throw counts as false.
   */
  tokenValid?(principal: Principal): boolean;
  /** Audits a standing subscription ended because its caller's token expired. */
  subscriptionExpired?(sub: StandingSubscription): void;
}
