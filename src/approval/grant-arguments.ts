import type { JudgedAction } from '../core/tool-call.js';

/**
 * Whether a remembered grant covers only calls with the approved call's arguments.
 *
 * The approver's explicit choice wins (`--match-arguments`, `--any-arguments`, the API's
 * `matchArguments`). Left unsaid, a tool call's grant covers any arguments of that tool, as it
 * always has: the approver approved a tool. A request judged as a virtual tool
 * (`resources/read`, `prompts/get`, `completion/complete`, `resources/subscribe`) is different:
 * its "tool" is the method, so "any arguments" would cover every URI, every prompt and every
 * completion on that upstream, where the approver saw and approved one. Its grant covers the
 * same arguments (the same URI, the same prompt with the same arguments) unless the approver
 * widens it explicitly. A record without `action` predates virtual tools: a tool call.
 */
export function grantMatchesArguments(action: JudgedAction | undefined, matchArguments: boolean | undefined): boolean {
  if (matchArguments !== undefined) return matchArguments;
  return action !== undefined && action !== 'tools/call';
}
