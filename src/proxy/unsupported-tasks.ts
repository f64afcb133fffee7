/**
 * MCP tasks (2025-11-25, experimental) are not offered through warden.
 *
 * A task-augmented `tools/call` is answered at once with a task handle; the tool's real result is
 * fetched later with `tasks/result`, a request of its own. Passed through, the guard judged the
 * call but audited only the handle as its result: what the tool returned (a bulk export, say)
 * reached the agent unrecorded, uncounted by the volume anomalies and unredacted, a throttled
 * call gave its concurrency slot back while the task still ran, and with several upstreams every
 * `tasks/*` request went to the first one. Until warden follows a task to its result, it does not
 * offer tasks: the `tasks` capability is left out of what the agent is told at `initialize` (a
 * client then calls tools the ordinary way, as the spec has it), a `tools/call` that asks for a
 * task anyway is refused before it is judged, and the agent's `tasks/*` requests are answered
 * "method not found", never forwarded (an upstream may keep tasks other clients created).
 *
 * The other way round too: the agent's own `tasks` capability is not passed on to upstreams, and
 * an upstream's `tasks/*` request to the agent (or a look-alike of one, method-lookalike.ts) is
 * answered "method not found", never relayed.
 * With several upstreams the agent's tasks are one pool: one upstream's `tasks/list` would show
 * it the tasks another one created (task-augmented sampling, elicitation), and `tasks/result`
 * hand it their answers. An upstream that asks for a task anyway (a `sampling/createMessage` or
 * `elicitation/create` with `task`) has its request relayed without it, as the spec has a
 * receiver that declares no tasks process it: the agent answers it the ordinary way and creates
 * no task for it. And the agent's `notifications/tasks/*` reach no upstream: warden relayed no
 * task-augmented request, and broadcast to every upstream they told each one about the others'.
 */

/** The server capability a receiver of task-augmented requests declares. */
export const TASKS_CAPABILITY = 'tasks';

/** The requests on tasks a requestor sends the receiver (2025-11-25). */
const TASK_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel']);

export function isTaskMethod(method: string): boolean {
  return TASK_METHODS.has(method);
}

/** The answer to an agent's `tasks/*` request. */
export const TASK_METHOD_REFUSAL = 'mcp-warden does not offer MCP tasks (experimental); call tools without task augmentation';

/** The answer to a `tools/call` carrying `task`. */
export const TASK_CALL_REFUSAL = 'tools/call with `task` is not supported through mcp-warden: it does not offer MCP tasks (experimental); call the tool without `task`';

/** The answer to an upstream's `tasks/*` request to the agent. */
export const UPSTREAM_TASK_METHOD_REFUSAL = 'the client does not offer MCP tasks through mcp-warden';

/** `capabilities` without `tasks` (the same object when it has none); own keys only, `__proto__` kept as data. */
export function withoutTasks(capabilities: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(capabilities, TASKS_CAPABILITY)) return capabilities;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(capabilities)) {
    if (key !== TASKS_CAPABILITY) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The agent's `initialize` params as upstreams get them: its capabilities without `tasks`. */
export function upstreamInitializeParams(params: Record<string, unknown>): Record<string, unknown> {
  const caps = params.capabilities;
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps) || !Object.hasOwn(caps, TASKS_CAPABILITY)) return params;
  return { ...params, capabilities: withoutTasks(caps as Record<string, unknown>) };
}

/** Whether a `tools/call`'s params ask for task augmentation (any `task` member counts). */
export function asksForTask(params: Record<string, unknown> | undefined): boolean {
  return params !== undefined && Object.hasOwn(params, 'task');
}

/** A notification about tasks (`notifications/tasks/status`): none belongs to an upstream. */
export function isTaskNotification(method: string): boolean {
  return method.startsWith('notifications/tasks/');
}

/** An upstream's request to the agent as it is relayed: without `task` (the same object when it has none). */
export function withoutTaskAugmentation<T extends { params?: Record<string, unknown> }>(request: T): T {
  const params = request.params;
  if (params === undefined || !Object.hasOwn(params, 'task')) return request;
  const { task: _dropped, ...rest } = params;
  return { ...request, params: rest };
}
