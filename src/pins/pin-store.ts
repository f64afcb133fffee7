import type { AuditEvent } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Reason } from '../core/decision.js';
import type { ToolDefinition } from '../core/tool-call.js';
import { diffDefinitions } from './pin-diff.js';
import { coalesced, watchPinFile } from './pin-file-watch.js';
import { acceptPending, readPinFile, withOthersHeld, writePinFile, type PinTable, type ToolPin } from './pin-file.js';
import { acceptedByOperator, BY_FIRST_USE, BY_ON_NEW_ALLOW, listingOf } from './pin-listing.js';
import { WHOLE_LISTING, type ListingPage, type PinChange, type PinStore, type PinStoreDeps } from './pin-store-api.js';
import type { PinsConfig } from './pins-config.js';
import { scanToolDefinition } from './scan-description.js';
import { pinnedPart, toolDigest } from './tool-digest.js';

export type { ListingPage, PinChange, PinCheck, PinStore, PinStoreDeps, PinVerdict } from './pin-store-api.js';

/**
 * Opens the pin file named by `pins.file`. Trust on first use: the first listing of an upstream
 * with no pins (all its pages) pins every tool, except definitions the scan flags as aimed at the
 * model. Later, a changed definition or a tool not pinned is held (`pins.onChange` / `pins.onNew`)
 * and withheld from tools/list (`listing()`) until `warden pins accept` (or `accept()`), which
 * this store notices by watching the file.
 */
export function openPinStore(config: PinsConfig, deps: PinStoreDeps): PinStore {
  let table: PinTable = readPinFile(config.file);
  const risks = new Map<string, readonly Reason[]>();
  /** Digest of each tool's definition as last listed: what `listing()` judges. */
  const seen = new Map<string, string>();
  /** Upstreams whose first listing is still being paged through (trust on first use is open). */
  const firstUseOpen = new Set<string>();
  const diffs = new Map<string, string>();
  /** Tells the runtime the listable set may have changed (an accept released a withheld tool). */
  const listingChanged = coalesced(deps.onListingChange, deps.logger);
  const key = (u: string, t: string): string => `${u}\u0000${t}`;
  const now = (): Date => new Date(deps.clock());

  function diffFor(upstream: string, tool: string, pin: ToolPin): string {
    const pending = pin.pending;
    if (!pending) return '';
    const k = `${key(upstream, tool)}\u0000${pin.pinned?.digest ?? ''}\u0000${pending.digest}`;
    let d = diffs.get(k);
    if (d === undefined) {
      d = diffDefinitions(`${upstream}/${tool}`, pin.pinned?.definition, pending.definition);
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
    let merged = 0;
    let fresh: PinTable;
    try {
      fresh = readPinFile(config.file);
    } catch (err) {
      // Fail closed: keep enforcing the pins we hold rather than trusting a broken file.
      deps.logger?.error({ err, file: config.file }, 'pin file unreadable; keeping current pins');
      return;
    }
    for (const [upstream, tools] of fresh) {
      const mine = table.get(upstream);
      if (!mine) {
        table.set(upstream, tools); // pinned elsewhere (another replica, or a restored file)
        merged += 1;
        continue;
      }
      for (const [tool, pin] of tools) {
        const current = mine.get(tool);
        if (!pin.pinned || pin.pinned.digest === current?.pinned?.digest) continue;
        const next: ToolPin = { ...current, pinned: pin.pinned };
        if (next.pending?.digest === pin.pinned.digest) delete next.pending;
        mine.set(tool, next);
        merged += 1;
        deps.audit.record(auditEvent('pins.accepted', { upstream, tool, digest: pin.pinned.digest, previousDigest: current?.pinned?.digest, by: pin.pinned.acceptedBy }));
      }
    }
    if (merged > 0) listingChanged();
    // Whoever wrote the file (an accept, another warden) may have written over a change this warden
    // holds: write it back, or nobody could see or accept it while it stays held. Only where the
    // file holds no change for the tool: another warden's different one is left alone (no ping-pong).
    // A file removed altogether is left removed (an operator resetting the pins before a restart).
    if (fresh.size > 0 && holdsMissingFrom(fresh)) persist();
  }

  function holdsMissingFrom(file: PinTable): boolean {
    for (const [upstream, tools] of table) {
      for (const [tool, pin] of tools) if (pin.pending && file.get(upstream)?.get(tool)?.pending === undefined) return true;
    }
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
      writePinFile(config.file, withOthersHeld(table, fileNow(), (u, t, d) => reverted.has(`${key(u, t)}\u0000${d}`)));
    } catch (err) {
      deps.logger?.error({ err, file: config.file }, 'cannot write pin file; pins held in memory only');
    }
  }

  /** Digest of each name listed so far in an upstream's paginated listing that is still in progress. */
  const listingSoFar = new Map<string, Map<string, string>>();

  /**
   * Names that appear more than once in one listing with different definitions, also across its
   * pages: a changed copy on page 1 and the pinned copy on page 2 must not clear the hold.
   */
  function namesListedTwice(upstream: string, defs: readonly ToolDefinition[], page: ListingPage): Set<string> {
    const digests = page.first ? new Map<string, string>() : (listingSoFar.get(upstream) ?? new Map<string, string>());
    if (page.last) listingSoFar.delete(upstream);
    else listingSoFar.set(upstream, digests);
    const ambiguous = new Set<string>();
    for (const d of defs) {
      const digest = toolDigest(d);
      const before = digests.get(d.name);
      if (before !== undefined && before !== digest) ambiguous.add(d.name);
      digests.set(d.name, digest);
    }
    return ambiguous;
  }

  function observeTool(upstream: string, tools: Map<string, ToolPin>, def: ToolDefinition, firstUse: boolean, events: AuditEvent[]): PinChange | undefined {
    const k = key(upstream, def.name);
    const digest = toolDigest(def);
    const definition = pinnedPart(def);
    const findings = scanToolDefinition(def);
    risks.set(k, findings);
    seen.set(k, digest);
    const poisoned = findings.length > 0;
    const pin = tools.get(def.name) ?? {};
    tools.set(def.name, pin);
    const at = now().toISOString();
    if (poisoned && pin.pinned?.digest === digest && !acceptedByOperator(pin.pinned)) {
      // Pinned automatically before the scan gated automatic pinning: no person ever accepted
      // this text, so it becomes a held new tool that `warden pins accept` can release.
      delete pin.pinned;
    }
    if (!pin.pinned && !poisoned && (firstUse || config.onNew === 'allow')) {
      const by = firstUse ? BY_FIRST_USE : BY_ON_NEW_ALLOW;
      pin.pinned = { digest, definition, pinnedAt: at, acceptedBy: by };
      delete pin.pending;
      if (!firstUse) events.push(auditEvent('pins.accepted', { upstream, tool: def.name, digest, by }));
      return { upstream, tool: def.name, kind: 'pinned', digest, diff: undefined };
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
    const kind = pin.pinned ? 'changed' : 'new';
    pin.pending = { kind, digest, definition, seenAt: at };
    const diff = diffFor(upstream, def.name, pin);
    const flagged = poisoned ? { poisoned: findings.map((f) => f.detail) } : {};
    events.push(auditEvent('pins.changed', { upstream, tool: def.name, kind, digest, pinnedDigest: pin.pinned?.digest, diff, ...flagged }));
    return { upstream, tool: def.name, kind, digest, diff };
  }

  /** Says which kind of "new" it is: a tool called before any listing showed it is held too. */
  function newToolDetail(upstream: string, tool: string): string {
    const pin = table.get(upstream)?.get(tool);
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
    observe(upstream, defs, page = WHOLE_LISTING) {
      refresh();
      const created = !table.has(upstream);
      // Trust on first use covers the later pages of the first listing, and nothing after it: a
      // listing that starts over (a first page again) closes it, so a client that never pages
      // on cannot keep it open for tools added later (concurrent first listings fail safe: held).
      const firstUse = created || (!page.first && firstUseOpen.has(upstream));
      if (firstUse && !page.last) firstUseOpen.add(upstream);
      else firstUseOpen.delete(upstream);
      // Unjudged until judged: if anything below throws, these stay out of the listing.
      for (const d of defs) seen.delete(key(upstream, d.name));
      const tools = table.get(upstream) ?? new Map<string, ToolPin>();
      table.set(upstream, tools);
      const before = JSON.stringify([...tools.entries()]);
      const events: AuditEvent[] = [];
      const ambiguous = namesListedTwice(upstream, defs, page);
      // A name listed twice with different definitions: only the ones that differ from the pin
      // are judged (a trailing copy of the pinned one must not clear the hold on the other), and
      // the name stays out of the listing until a person looks (the agent would get both).
      const judged = defs.filter((d) => !ambiguous.has(d.name) || toolDigest(d) !== tools.get(d.name)?.pinned?.digest);
      const changes = judged.map((d) => observeTool(upstream, tools, d, firstUse, events)).filter((c): c is PinChange => c !== undefined);
      for (const name of ambiguous) seen.set(key(upstream, name), AMBIGUOUS);
      if (JSON.stringify([...tools.entries()]) !== before) persist();
      const pinned = changes.filter((c) => c.kind === 'pinned').map((c) => c.tool);
      if (firstUse && (created || pinned.length > 0)) events.push(auditEvent('pins.accepted', { upstream, tools: pinned, by: BY_FIRST_USE }));
      recordEach(events);
      return changes;
    },
    listing(upstream, tool) {
      const k = key(upstream, tool);
      return listingOf(table.get(upstream)?.get(tool), seen.get(k), (risks.get(k)?.length ?? 0) > 0);
    },
    check(upstream, tool) {
      const pin = table.get(upstream)?.get(tool);
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
      if (accepted.length > 0) {
        persist();
        listingChanged();
      }
      for (const a of accepted) deps.audit.record(auditEvent('pins.accepted', { upstream: a.upstream, tool: a.tool, digest: a.digest, previousDigest: a.previousDigest, by }));
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
