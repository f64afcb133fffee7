import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Clock } from '../core/clock.js';
import { watchFile } from '../core/watch-file.js';
import type { Action, Reason } from '../core/decision.js';
import type { ToolDefinition } from '../core/tool-call.js';
import type { Logger } from '../logging/logger.js';
import { diffDefinitions } from './pin-diff.js';
import { acceptPending, readPinFile, writePinFile, type AcceptedPin, type PinSelector, type PinTable, type ToolPin } from './pin-file.js';
import type { PinsConfig } from './pins-config.js';
import { scanToolDefinition } from './scan-description.js';
import { pinnedPart, toolDigest } from './tool-digest.js';

/** What `observe` found for one tool. */
export interface PinChange {
  readonly upstream: string;
  readonly tool: string;
  /** `pinned`: trusted on first use (or auto-pinned by onNew: allow); `changed`/`new`: held. */
  readonly kind: 'pinned' | 'changed' | 'new';
  readonly digest: string;
  readonly diff: string | undefined;
}

export type PinCheck = { readonly kind: 'pinned' } | { readonly kind: 'changed'; readonly diff: string } | { readonly kind: 'new' };

/** What the guard should do about a tool's pin state (before risk and policy). */
export interface PinVerdict {
  readonly action: Action;
  readonly reasons: readonly Reason[];
}

export interface PinStore {
  /** Records a fresh `tools/list` of an upstream; returns the tools that were pinned, changed or new. */
  observe(upstream: string, tools: readonly ToolDefinition[]): PinChange[];
  check(upstream: string, tool: string): PinCheck;
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
}

/**
 * Opens the pin file named by `pins.file`. Trust on first use: the first listing of an upstream
 * with no pins pins every tool. Later, a changed definition or a tool not pinned is held
 * (`pins.onChange` / `pins.onNew`) until `warden pins accept` (or `accept()`), which this store
 * notices by watching the file.
 */
export function openPinStore(config: PinsConfig, deps: PinStoreDeps): PinStore {
  let table: PinTable = readPinFile(config.file);
  const risks = new Map<string, readonly Reason[]>();
  const diffs = new Map<string, string>();
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
        continue;
      }
      for (const [tool, pin] of tools) {
        const current = mine.get(tool);
        if (!pin.pinned || pin.pinned.digest === current?.pinned?.digest) continue;
        const merged: ToolPin = { ...current, pinned: pin.pinned };
        if (merged.pending?.digest === pin.pinned.digest) delete merged.pending;
        mine.set(tool, merged);
        deps.audit.record(auditEvent('pins.accepted', { upstream, tool, digest: pin.pinned.digest, previousDigest: current?.pinned?.digest, by: pin.pinned.acceptedBy }));
      }
    }
  }

  /** Persists memory; a failed write is logged and memory (which holds every hold) stays in force. */
  function persist(): void {
    try {
      writePinFile(config.file, table);
    } catch (err) {
      deps.logger?.error({ err, file: config.file }, 'cannot write pin file; pins held in memory only');
    }
  }

  function observeTool(upstream: string, tools: Map<string, ToolPin>, def: ToolDefinition, firstUse: boolean): PinChange | undefined {
    const digest = toolDigest(def);
    const definition = pinnedPart(def);
    risks.set(key(upstream, def.name), scanToolDefinition(def));
    const pin = tools.get(def.name) ?? {};
    tools.set(def.name, pin);
    const at = now().toISOString();
    if (!pin.pinned && (firstUse || config.onNew === 'allow')) {
      const by = firstUse ? 'first-use' : 'auto (pins.onNew: allow)';
      pin.pinned = { digest, definition, pinnedAt: at, acceptedBy: by };
      delete pin.pending;
      if (!firstUse) deps.audit.record(auditEvent('pins.accepted', { upstream, tool: def.name, digest, by }));
      return { upstream, tool: def.name, kind: 'pinned', digest, diff: undefined };
    }
    if (pin.pinned?.digest === digest) {
      // The upstream went back to the pinned definition: nothing to hold any more.
      delete pin.pending;
      return undefined;
    }
    if (pin.pending?.digest === digest) return undefined; // already held and audited
    const kind = pin.pinned ? 'changed' : 'new';
    pin.pending = { kind, digest, definition, seenAt: at };
    const diff = diffFor(upstream, def.name, pin);
    deps.audit.record(auditEvent('pins.changed', { upstream, tool: def.name, kind, digest, pinnedDigest: pin.pinned?.digest, diff }));
    return { upstream, tool: def.name, kind, digest, diff };
  }

  /** Says which kind of "new" it is: a tool called before any listing showed it is held too. */
  function newToolDetail(upstream: string, tool: string): string {
    return table.get(upstream)?.has(tool)
      ? `${tool} appeared after the upstream's first listing`
      : `${tool} was called before any tools/list showed it (warden pins tools as they are listed)`;
  }

  const store: PinStore = {
    observe(upstream, defs) {
      refresh();
      const firstUse = !table.has(upstream);
      const tools = table.get(upstream) ?? new Map<string, ToolPin>();
      table.set(upstream, tools);
      const before = JSON.stringify([...tools.entries()]);
      const changes = defs.map((d) => observeTool(upstream, tools, d, firstUse)).filter((c): c is PinChange => c !== undefined);
      if (JSON.stringify([...tools.entries()]) !== before) persist();
      if (firstUse) deps.audit.record(auditEvent('pins.accepted', { upstream, tools: changes.map((c) => c.tool), by: 'first-use' }));
      return changes;
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
      if (accepted.length > 0) persist();
      for (const a of accepted) deps.audit.record(auditEvent('pins.accepted', { upstream: a.upstream, tool: a.tool, digest: a.digest, previousDigest: a.previousDigest, by }));
      return accepted;
    },
    reload: refresh,
    close() {
      stopWatching?.();
      if (timer) clearTimeout(timer);
    },
  };

  let stopWatching: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (config.watch) {
    try {
      // The folder may not exist before the first pin is written; watching for the file needs it.
      mkdirSync(dirname(config.file), { recursive: true, mode: 0o700 });
      stopWatching = watchFile(config.file, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => store.reload(), 50);
        timer.unref();
      }, { onError: (err) => deps.logger?.warn({ err, file: config.file }, 'cannot watch the pin file; accepted pins apply after restart') });
    } catch (err) {
      deps.logger?.warn({ err, file: config.file }, 'cannot watch the pin file; accepted pins apply after restart');
    }
  }
  return store;
}
