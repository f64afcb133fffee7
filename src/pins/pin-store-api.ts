import type { AuditSink } from '../audit/audit-sink.js';
import type { Clock } from '../core/clock.js';
import type { Action, Reason } from '../core/decision.js';
import type { Logger } from '../logging/logger.js';
import type { NamedDefinition, PinKind } from './definition-digest.js';
import type { AcceptedPin, PinSelector } from './pin-file.js';
import type { PinListing } from './pin-listing.js';

/** What `observe` found for one definition. */
export interface PinChange {
  readonly upstream: string;
  readonly kind: PinKind;
  readonly name: string;
  /** `pinned`: trusted on first use (or auto-pinned by onNew: allow); `changed`/`new`: held. */
  readonly state: 'pinned' | 'changed' | 'new';
  readonly digest: string;
  readonly diff: string | undefined;
}

export type PinCheck = { readonly kind: 'pinned' } | { readonly kind: 'changed'; readonly diff: string } | { readonly kind: 'new' };

/** What the guard should do about a tool's pin state (before risk and policy). */
export interface PinVerdict {
  readonly action: Action;
  readonly reasons: readonly Reason[];
}

/** Where a listed batch of definitions sits in the upstream's paginated listing (`tools/list`, ...). */
export interface ListingPage {
  /** Listed without a cursor. */
  readonly first: boolean;
  /** The upstream gave no `nextCursor`. */
  readonly last: boolean;
}

/** A whole listing in one batch (every page already gathered). */
export const WHOLE_LISTING: ListingPage = { first: true, last: true };

export interface PinStore {
  /**
   * Records a fresh listing of one kind (default tools) of an upstream (or one page of it); returns
   * the definitions that were pinned, changed or new. Trust on first use spans every page of the
   * first listing of that kind.
   */
  observe(upstream: string, defs: readonly NamedDefinition[], page?: ListingPage, kind?: PinKind): PinChange[];
  check(upstream: string, tool: string): PinCheck;
  /**
   * Whether the list request may show the definition (default: a tool) as it was just listed:
   * only an accepted definition is shown; changed, new and (unless a person accepted them)
   * poisoned definitions are left out. Also what `prompts/get` is refused by.
   */
  listing(upstream: string, name: string, kind?: PinKind): PinListing;
  /** check() mapped through `pins.onChange` / `pins.onNew`, with a reason when not allowed. */
  verdict(upstream: string, tool: string): PinVerdict;
  /** Poisoned-description reasons for the tool as last listed (risk input, not a verdict). */
  risk(upstream: string, tool: string): readonly Reason[];
  accept(selector: PinSelector, by: string): AcceptedPin[];
  /** Re-reads the pin file (also done by the watcher) and audits accepted pins. */
  reload(): void;
  close(): void;
}

export interface PinStoreDeps {
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger?: Logger;
  /**
   * Called (once per burst, after the current task) when an accept may have made a withheld
   * definition listable again, with the kinds concerned, so agents can be told to list again
   * (`notifications/tools/list_changed`, `prompts/...`, `resources/...`).
   */
  readonly onListingChange?: (kinds: ReadonlySet<PinKind>) => void;
}
