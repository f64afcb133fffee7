// Public library surface. Explicit named exports only.
export { WardenError, ConfigError } from './core/errors.js';
export type { Principal } from './core/principal.js';
export type { Decision, Action, Reason, Sensitivity } from './core/decision.js';
export type { Guard, GuardVerdict, ToolCallRequest, UpstreamOutcome } from './core/tool-call.js';
export type { StateStore } from './state/state-store.js';
export { MemoryStateStore } from './state/memory-store.js';
