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

/** Whether a `tools/call`'s params ask for task augmentation (any `task` member counts). */
export function asksForTask(params: Record<string, unknown> | undefined): boolean {
  return params !== undefined && Object.hasOwn(params, 'task');
}
