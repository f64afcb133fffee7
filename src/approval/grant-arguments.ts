import { digestOf } from '../core/canonical-json.js';
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
 * same arguments (the same URI, the same prompt with the same arguments; for a completion, see
 * grantArgumentsDigest) unless the approver widens it explicitly. A record without `action`
 * predates virtual tools: a tool call.
 */
export function grantMatchesArguments(action: JudgedAction | undefined, matchArguments: boolean | undefined): boolean {
  if (matchArguments !== undefined) return matchArguments;
  return action !== undefined && action !== 'tools/call';
}

/**
 * The digest a grant bound to "the same arguments" records, and that a later request is looked
 * up by: the digest of all its arguments, except for a completion.
 *
 * A completion request carries what the user has typed so far into the argument completed
 * (`argument.value`): bound to it, a remembered completion never matched the next keystroke, so
 * "allow and remember" asked again for every character. What an approver of a completion decides
 * on is which argument of which prompt or resource template may be completed, and in which
 * context: its grant binds `ref`, `argument.name` and `context` (the other arguments already
 * filled in) and leaves the typed value free. The context stays bound because it scopes what a
 * completion lists (the repositories of the `owner` filled in, the tables of the `database`):
 * left free, a grant approved for one owner's repositories listed every other owner's too. It
 * does not change while one argument is typed. Bulk enumeration by prefixes stays the policy's
 * job (rate and volume rules block it; block beats any grant).
 */
export function grantArgumentsDigest(action: JudgedAction | undefined, args: unknown): string {
  if (action !== 'completion/complete' || typeof args !== 'object' || args === null) return digestOf(args);
  const { ref, argument, context } = args as { ref?: unknown; argument?: unknown; context?: unknown };
  const name = typeof argument === 'object' && argument !== null ? (argument as { name?: unknown }).name : undefined;
  return digestOf({ ref, argument: { name }, context });
}
