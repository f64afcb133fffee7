import type { Guard, GuardVerdict } from '../core/tool-call.js';

const FORWARD: GuardVerdict = Object.freeze({ kind: 'forward' });

/** The default guard until the decision pipeline is wired in: forwards every call. */
export function createAllowAllGuard(): Guard {
  return { checkToolCall: () => FORWARD };
}
