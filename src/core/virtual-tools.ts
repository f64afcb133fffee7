import type { JudgedAction, ToolDefinition } from './tool-call.js';

/**
 * Requests other than `tools/call` that warden judges exactly as a call of a tool: a
 * `resources/read` of URI U on upstream X is a call of the virtual tool `resources/read` on X
 * with arguments `{ uri: U }`, a `prompts/get` of prompt P (the upstream's own name) a call of
 * `prompts/get` with `{ name: P, arguments }`, a `completion/complete` a call of
 * `completion/complete` with `{ ref, argument, context? }` (`ref` naming the prompt or template as
 * the upstream knows it), a `resources/subscribe` a call of `resources/subscribe` with `{ uri }`.
 * Policy rules, sensitivity, rate / volume / novelty signals, throttling, approvals and the
 * `call.*` audit records then apply to them unchanged.
 */
export type VirtualToolName = Exclude<JudgedAction, 'tools/call'>;

/** The name of the virtual tool a `resources/read` is judged as. */
export const RESOURCE_READ_TOOL = 'resources/read' satisfies VirtualToolName;

/** The name of the virtual tool a `prompts/get` is judged as. */
export const PROMPT_GET_TOOL = 'prompts/get' satisfies VirtualToolName;

/** The name of the virtual tool a `completion/complete` is judged as. */
export const COMPLETION_TOOL = 'completion/complete' satisfies VirtualToolName;

/** The name of the virtual tool a `resources/subscribe` is judged as. */
export const RESOURCE_SUBSCRIBE_TOOL = 'resources/subscribe' satisfies VirtualToolName;

/**
 * What every virtual tool is: it changes no data, and answers from the upstream's own world.
 * Annotations only ever raise risk, so these leave the level to the policy. A subscription does
 * leave state upstream (the subscription), but changes no data and repeating it changes nothing.
 */
const READ_ONLY = Object.freeze({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });

/**
 * Warden's own definitions of the virtual tools. Not the upstream's: nothing an upstream lists
 * can change how a read is classified.
 */
const DEFINITIONS: Readonly<Record<VirtualToolName, ToolDefinition>> = {
  'resources/read': Object.freeze({
    name: RESOURCE_READ_TOOL,
    description: 'mcp-warden virtual tool: one resources/read of the URI in `uri`',
    annotations: READ_ONLY,
  }),
  'prompts/get': Object.freeze({
    name: PROMPT_GET_TOOL,
    description: 'mcp-warden virtual tool: one prompts/get of the prompt `name` with its `arguments`',
    annotations: READ_ONLY,
  }),
  'completion/complete': Object.freeze({
    name: COMPLETION_TOOL,
    description: 'mcp-warden virtual tool: one completion/complete of `argument` of the prompt or resource template in `ref`',
    annotations: READ_ONLY,
  }),
  'resources/subscribe': Object.freeze({
    name: RESOURCE_SUBSCRIBE_TOOL,
    description: 'mcp-warden virtual tool: one resources/subscribe to the URI in `uri`',
    annotations: READ_ONLY,
  }),
};

/**
 * True for a name a virtual tool carries. An upstream tool of that name is never listed nor
 * called (see the guard): a policy rule written for reads must not judge it, nor a grant, pin or
 * counter of the read apply to it. MCP tool names have no `/`, so no honest tool is lost.
 */
export function isVirtualToolName(name: string): name is VirtualToolName {
  return Object.hasOwn(DEFINITIONS, name);
}

/** The definition warden gives a virtual tool. */
export function virtualToolDefinition(name: VirtualToolName): ToolDefinition {
  return DEFINITIONS[name];
}
