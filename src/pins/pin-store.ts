import type { AuditEvent } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Reason } from '../core/decision.js';
import { definitionDigest, pinnedPart, type NamedDefinition, type PinKind } from './definition-digest.js';
import { diffDefinitions } from './pin-diff.js';
import { coalesced, watchPinFile } from './pin-file-watch.js';
import { acceptPending, eachPin, pinsOf, readPinFile, withOthersHeld, writePinFile, type DefinitionPin, type PinTable } from './pin-file.js';
import { acceptedByOperator, BY_FIRST_USE, BY_ON_NEW_ALLOW, listingOf } from './pin-listing.js';
import { WHOLE_LISTING, type ListingPage, type PinChange, type PinStore, type PinStoreDeps } from './pin-store-api.js';
import type { PinsConfig } from './pins-config.js';
import { firstUseNames, pinSubject } from './pin-subject.js';
import { scanDefinition } from './scan-description.js';

export type { ListingPage, PinChange, PinCheck, PinStore, PinStoreDeps, PinVerdict } from './pin-store-api.js';

/**
 * Opens the pin file named by `pins.file`. Trust on first use: the first listing of one kind
 * (tools, prompts, resource templates) of an upstream with no pins of that kind (all its pages)
 * pins every definition, except those the scan flags as aimed at the model. Later, a changed
 * definition or one not pinned is held (`pins.onChange` / `pins.onNew`) and withheld from its list
 * (`listing()`) until `warden pins accept` (or `accept()`), which this store notices by watching
 * the file. Everything is keyed by upstream, kind and name.
 */
export function openPinStore(config: PinsConfig, deps: PinStoreDeps): PinStore {
  let table: PinTable = readPinFile(config.file);
  const risks = new Map<string, readonly Reason[]>();
  /** Digest of each definition as last listed: what `listing()` judges. */
  const seen = new Map<string, string>();
  /** Upstream and kind whose first listing is still being paged through (trust on first use is open). */
  const firstUseOpen = new Set<string>();
  const diffs = new Map<string, string>();
  /** Tells the runtime the listable set of a kind may have changed (an accept released a withheld definition). */
  const listingChanged = coalesced(deps.onListingChange, deps.logger);
  // Kind, then upstream (a configured name), then the listed name: a prompt and a tool of the same
  // name never share a key.
  const key = (u: string, t: string, kind: PinKind = 'tool'): string => `${kind}\u0000${u}\u0000${t}`;
  const now = (): Date => new Date(deps.clock());

  function diffFor(upstream: string, name: string, pin: DefinitionPin, kind: PinKind = 'tool'): string {
    const pending = pin.pending;
    if (!pending) return '';
    const k = `${key(upstream, name, kind)}\u0000${pin.pinned?.digest ?? ''}\u0000${pending.digest}`;
    let d = diffs.get(k);
    if (d === undefined) {
      d = diffDefinitions(`${upstream}/${name}`, pin.pinned?.definition, pending.definition);
      if (diffs.size > 1000) diffs.clear();
      diffs.set(k, d);
    }
    return d;
  }

  /**
   * Merges accepts from the file (written by `warden pins accept`) into memory. Memory stays
   * authoritative for everything else, so a lost or failed write can never turn a held change into
   * a trusted one; other hand edits apply at the next start.
   */
  function refresh(): void {
    let fresh: PinTable;
    try {
      fresh = readPinFile(config.file);
    } catch (err) {
      // Fail closed: keep enforcing the pins we hold rather than trusting a broken file.
      deps.logger?.error({ err, file: config.file }, 'pin file unreadable; keeping current pins');
      return;
    }
    const kindsMerged = new Set<PinKind>();
    for (const [upstream, kinds] of fresh) {
      const mineUpstream = table.get(upstream);
      if (!mineUpstream) {
        table.set(upstream, kinds); // pinned elsewhere (another replica, or a restored file)
        for (const kind of kinds.keys()) kindsMerged.add(kind);
        continue;
      }
      for (const [kind, pins] of kinds) {
        const mine = mineUpstream.get(kind);
        if (!mine) {
          mineUpstream.set(kind, pins); // that kind listed elsewhere first
          kindsMerged.add(kind);
          continue;
        }
        for (const [name, pin] of pins) {
          const current = mine.get(name);
          if (!pin.pinned || pin.pinned.digest === current?.pinned?.digest) continue;
          const next: DefinitionPin = { ...current, pinned: pin.pinned };
          if (next.pending?.digest === pin.pinned.digest) delete next.pending;
          mine.set(name, next);
          kindsMerged.add(kind);
          deps.audit.record(auditEvent('pins.accepted', { upstream, ...pinSubject(kind, name), digest: pin.pinned.digest, previousDigest: current?.pinned?.digest, by: pin.pinned.acceptedBy }));
        }
      }
    }
    for (const kind of kindsMerged) listingChanged(kind);
    // Whoever wrote the file (an accept, another warden) may have written over a change this warden
    // holds: write it back, or nobody could see or accept it while it stays held. Only where the
    // file holds no change for the definition: another warden's different one is left alone (no
    // ping-pong). A file removed altogether is left removed (an operator resetting the pins before a restart).
    if (fresh.size > 0 && holdsMissingFrom(fresh)) persist();
  }

  function holdsMissingFrom(file: PinTable): boolean {
    for (const [upstream, kind, name, pin] of eachPin(table)) if (pin.pending && pinsOf(file, upstream, kind)?.get(name)?.pending === undefined) return true;
    return false;
  }

  /** Persists memory; a failed write is logged and memory (which holds every hold) stays in force. */
  /** `seen` digest of a name listed twice with different definitions: matches no pin, so never listed. */
  const AMBIGUOUS = 'ambiguous:listed-twice';

  /** Held changes this warden cleared because its upstream went back (`key\0digest`). */
  const reverted = new Set<string>();

  /** The pin file as another warden sharing it may have written it since (empty if unreadable). */
  function fileNow(): PinTable {
    try {
      return readPinFile(config.file);
    } catch {
      return new Map();
    }
  }

  function persist(): void {
    try {
      writePinFile(config.file, withOthersHeld(table, fileNow(), (u, kind, n, d) => reverted.has(`${key(u, n, kind)}\u0000${d}`)));
    } catch (err) {
      deps.logger?.error({ err, file: config.file }, 'cannot write pin file; pins held in memory only');
    }
  }

  /** Digest of each name listed so far in a paginated listing (per upstream and kind) still in progress. */
  const listingSoFar = new Map<string, Map<string, string>>();

  /**
   * Names that appear more than once in one listing with different definitions, also across its
   * pages: a changed copy on page 1 and the pinned copy on page 2 must not clear the hold.
   */
  function namesListedTwice(upstream: string, kind: PinKind, defs: readonly NamedDefinition[], page: ListingPage): Set<string> {
    const listingKey = key(upstream, '', kind);
    const digests = page.first ? new Map<string, string>() : (listingSoFar.get(listingKey) ?? new Map<string, string>());
    if (page.last) listingSoFar.delete(listingKey);
    else listingSoFar.set(listingKey, digests);
    const ambiguous = new Set<string>();
    for (const d of defs) {
      const digest = definitionDigest(d, kind);
      const before = digests.get(d.name);
      if (before !== undefined && before !== digest) ambiguous.add(d.name);
      digests.set(d.name, digest);
    }
    return ambiguous;
  }

  function observeOne(upstream: string, kind: PinKind, pins: Map<string, DefinitionPin>, def: NamedDefinition, firstUse: boolean, events: AuditEvent[]): PinChange | undefined {
    const k = key(upstream, def.name, kind);
    const digest = definitionDigest(def, kind);
    const definition = pinnedPart(def, kind);
    const findings = scanDefinition(definition, kind);
    risks.set(k, findings);
    seen.set(k, digest);
    const poisoned = findings.length > 0;
    const pin = pins.get(def.name) ?? {};
    pins.set(def.name, pin);
    const at = now().toISOString();
    const subject = pinSubject(kind, def.name);
    if (poisoned && pin.pinned?.digest === digest && !acceptedByOperator(pin.pinned)) {
      // Pinned automatically before the scan gated automatic pinning: no person ever accepted
      // this text, so it becomes a held new definition that `warden pins accept` can release.
      delete pin.pinned;
    }
    if (!pin.pinned && !poisoned && (firstUse || config.onNew === 'allow')) {
      const by = firstUse ? BY_FIRST_USE : BY_ON_NEW_ALLOW;
      pin.pinned = { digest, definition, pinnedAt: at, acceptedBy: by };
      delete pin.pending;
      if (!firstUse) events.push(auditEvent('pins.accepted', { upstream, ...subject, digest, by }));
      return { upstream, kind, name: def.name, state: 'pinned', digest, diff: undefined };
    }
    if (pin.pinned?.digest === digest) {
      // The upstream went back to the pinned definition: nothing to hold any more (and the held
      // change this warden wrote to the file goes too, though another's would be kept).
      if (pin.pending) {
        if (reverted.size > 1000) reverted.clear();
        reverted.add(`${k}\u0000${pin.pending.digest}`);
      }
      delete pin.pending;
      return undefined;
    }
    if (pin.pending?.digest === digest) return undefined; // already held and audited
    const state = pin.pinned ? 'changed' : 'new';
    pin.pending = { kind: state, digest, definition, seenAt: at };
    const diff = diffFor(upstream, def.name, pin, kind);
    const flagged = poisoned ? { poisoned: findings.map((f) => f.detail) } : {};
    events.push(auditEvent('pins.changed', { upstream, ...subject, kind: state, digest, pinnedDigest: pin.pinned?.digest, diff, ...flagged }));
    return { upstream, kind, name: def.name, state, digest, diff };
  }

  /** Says which kind of "new" it is: a tool called before any listing showed it is held too. */
  function newToolDetail(upstream: string, tool: string): string {
    const pin = pinsOf(table, upstream, 'tool')?.get(tool);
    if (!pin) return `${tool} was called before any tools/list showed it (warden pins tools as they are listed)`;
    if ((risks.get(key(upstream, tool))?.length ?? 0) > 0) return `${tool} was not pinned automatically: its definition carries text aimed at the model`;
    return `${tool} appeared after the upstream's first listing`;
  }

  /** Audit after the pin state is settled, so a failing sink cannot leave a tool half-judged. */
  function recordEach(events: readonly AuditEvent[]): void {
    for (const event of events) {
      try {
        deps.audit.record(event);
      } catch (err) {
        // The sink reports itself unhealthy and every call blocks until it heals; the holds stand.
        deps.logger?.error({ err, type: event.type }, 'could not audit a pin change');
      }
    }
  }

  const store: PinStore = {
    observe(upstream, defs, page = WHOLE_LISTING, kind = 'tool') {
      refresh();
      const listingKey = key(upstream, '', kind);
      const created = pinsOf(table, upstream, kind) === undefined;
      // Trust on first use covers the later pages of the first listing, and nothing after it: a
      // listing that starts over (a first page again) closes it, so a client that never pages
      // on cannot keep it open for definitions added later (concurrent first listings fail safe: held).
      const firstUse = created || (!page.first && firstUseOpen.has(listingKey));
      if (firstUse && !page.last) firstUseOpen.add(listingKey);
      else firstUseOpen.delete(listingKey);
      // Unjudged until judged: if anything below throws, these stay out of the listing.
      for (const d of defs) seen.delete(key(upstream, d.name, kind));
      const kinds = table.get(upstream) ?? new Map<PinKind, Map<string, DefinitionPin>>();
      table.set(upstream, kinds);
      const pins = kinds.get(kind) ?? new Map<string, DefinitionPin>();
      kinds.set(kind, pins);
      const before = created ? '' : JSON.stringify([...pins.entries()]);
      const events: AuditEvent[] = [];
      const ambiguous = namesListedTwice(upstream, kind, defs, page);
      // A name listed twice with different definitions: only the ones that differ from the pin
      // are judged (a trailing copy of the pinned one must not clear the hold on the other), and
      // the name stays out of the listing until a person looks (the agent would get both).
      const judged = defs.filter((d) => !ambiguous.has(d.name) || definitionDigest(d, kind) !== pins.get(d.name)?.pinned?.digest);
      const changes = judged.map((d) => observeOne(upstream, kind, pins, d, firstUse, events)).filter((c): c is PinChange => c !== undefined);
      for (const name of ambiguous) seen.set(key(upstream, name, kind), AMBIGUOUS);
      // A first listing is written even when empty: the file then says this kind was listed.
      if (JSON.stringify([...pins.entries()]) !== before) persist();
      const pinned = changes.filter((c) => c.state === 'pinned').map((c) => c.name);
      if (firstUse && (created || pinned.length > 0)) events.push(auditEvent('pins.accepted', { upstream, ...firstUseNames(kind, pinned), by: BY_FIRST_USE }));
      recordEach(events);
      return changes;
    },
    listing(upstream, name, kind = 'tool') {
      const k = key(upstream, name, kind);
      return listingOf(pinsOf(table, upstream, kind)?.get(name), seen.get(k), (risks.get(k)?.length ?? 0) > 0);
    },
    check(upstream, tool) {
      const pin = pinsOf(table, upstream, 'tool')?.get(tool);
      // Never listed: treat as new (held per onNew), never as trusted.
      if (!pin) return { kind: 'new' };
      if (pin.pending) return pin.pending.kind === 'changed' ? { kind: 'changed', diff: diffFor(upstream, tool, pin) } : { kind: 'new' };
      return pin.pinned ? { kind: 'pinned' } : { kind: 'new' };
    },
    verdict(upstream, tool) {
      const c = store.check(upstream, tool);
      switch (c.kind) {
        case 'pinned':
          return { action: 'allow', reasons: [] };
        case 'changed':
          return { action: config.onChange, reasons: [{ code: 'tool.definition_changed', weight: 50, detail: `definition of ${tool} changed since it was pinned` }] };
        case 'new':
          return config.onNew === 'allow'
            ? { action: 'allow', reasons: [] }
            : { action: config.onNew, reasons: [{ code: 'tool.new_unpinned', weight: 30, detail: newToolDetail(upstream, tool) }] };
      }
    },
    risk(upstream, tool) {
      return risks.get(key(upstream, tool)) ?? [];
    },
    accept(selector, by) {
      refresh();
      const accepted = acceptPending(table, selector, by, now());
      if (accepted.length > 0) persist();
      for (const a of accepted) listingChanged(a.kind);
      for (const a of accepted) deps.audit.record(auditEvent('pins.accepted', { upstream: a.upstream, ...pinSubject(a.kind, a.name), digest: a.digest, previousDigest: a.previousDigest, by }));
      return accepted;
    },
    reload: refresh,
    close() {
      stopWatching?.();
    },
  };

  const stopWatching = config.watch ? watchPinFile(config.file, () => store.reload(), deps.logger) : undefined;
  return store;
}
