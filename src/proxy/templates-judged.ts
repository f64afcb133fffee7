import type { UpstreamConnection } from './upstream-connection.js';

/** A resource template as the upstream listed it: the pins' key and the URIs it claims. */
export interface ListedTemplate {
  readonly name: string;
  readonly uriTemplate: string;
}

/**
 * The resource templates of each upstream as warden last listed them for one session, kept only
 * while they still describe the upstream: until it restarts or announces
 * `notifications/resources/list_changed` (a rug pull of a template the agent did not list again
 * after). A read or completion is judged against them (template-pin-check.ts), as a prompts/get is
 * judged only against a current listing (PromptsJudged).
 */
export class TemplatesJudged {
  /** Upstream name → `notifications/resources/list_changed` received from it so far. */
  private readonly changes = new Map<string, number>();
  /** Upstream name → the last judged listing and where the upstream stood when it was asked. */
  private readonly judged = new Map<string, { readonly stamp: string; readonly templates: readonly ListedTemplate[] }>();

  /** Where the upstream's templates stand now: its generation and the changes it announced. */
  stamp(upstream: UpstreamConnection): string {
    return `${upstream.generation}/${this.changes.get(upstream.name) ?? 0}`;
  }

  /** The upstream announced its resources changed: what was judged before no longer holds. */
  changed(upstream: UpstreamConnection): void {
    this.changes.set(upstream.name, (this.changes.get(upstream.name) ?? 0) + 1);
  }

  /** A whole listing asked for when the upstream stood at `stamp` was handed to the pins. */
  listed(upstream: UpstreamConnection, stamp: string, templates: readonly ListedTemplate[]): void {
    this.judged.set(upstream.name, { stamp, templates });
  }

  /** The templates of the last judged listing, when it was taken where the upstream stands now. */
  current(upstream: UpstreamConnection): readonly ListedTemplate[] | undefined {
    const last = this.judged.get(upstream.name);
    return last !== undefined && last.stamp === this.stamp(upstream) ? last.templates : undefined;
  }
}
