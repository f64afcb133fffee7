import type { UpstreamConnection } from './upstream-connection.js';

/**
 * Whether one session's prompts/get of an upstream's prompt may be judged by the pins' last
 * listing. The pins keep one listing per upstream name, but it may describe another process (an
 * upstream restarted since, or, over HTTP, another session's own process) or the prompts from
 * before the upstream announced they changed (a rug pull the agent did not list again after): a
 * prompts/get judged by it forwarded a prompt whose changed definition the pins would hold. So a
 * get is judged only after a whole listing of this session's upstream, taken since its last
 * restart and its last `notifications/prompts/list_changed` (prompt-pin-check.ts lists it itself
 * otherwise), as a tool call is judged only against this session's listing since its last change.
 */
export class PromptsJudged {
  /** Upstream name → `notifications/prompts/list_changed` received from it so far. */
  private readonly changes = new Map<string, number>();
  /** Upstream name → the stamp of the last whole listing judged. */
  private readonly judged = new Map<string, string>();

  /** Where the upstream's prompts stand now: its generation and the changes it announced. */
  stamp(upstream: UpstreamConnection): string {
    return `${upstream.generation}/${this.changes.get(upstream.name) ?? 0}`;
  }

  /** The upstream announced its prompts changed: what was judged before no longer holds. */
  changed(upstream: UpstreamConnection): void {
    this.changes.set(upstream.name, (this.changes.get(upstream.name) ?? 0) + 1);
  }

  /** A whole listing asked for when the upstream stood at `stamp` was handed to the pins. */
  listed(upstream: UpstreamConnection, stamp: string): void {
    this.judged.set(upstream.name, stamp);
  }

  /** True when the last judged listing was taken where the upstream stands now. */
  current(upstream: UpstreamConnection): boolean {
    return this.judged.get(upstream.name) === this.stamp(upstream);
  }
}
