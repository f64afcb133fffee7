import type { AuditSink } from '../audit/audit-sink.js';
import type { WardenConfig } from '../config/config-schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../logging/logger.js';
import type { PinKind } from '../pins/definition-digest.js';
import { openPinStore, type PinStore } from '../pins/pin-store.js';
import type { AnnouncedList } from '../proxy/announce-list-changed.js';

/** The pin store when pinning is enabled, with its file resolved against the config folder. */
export function openPins(
  config: WardenConfig,
  at: (path: string) => string,
  deps: { audit: AuditSink; clock: Clock; logger: Logger; onListingChange?: (kinds: ReadonlySet<PinKind>) => void },
): PinStore | undefined {
  if (!config.pins.enabled) return undefined;
  return openPinStore({ ...config.pins, file: at(config.pins.file) }, deps);
}

const LIST_OF: Readonly<Record<PinKind, AnnouncedList>> = { tool: 'tools', prompt: 'prompts', resourceTemplate: 'resources' };

/** The list_changed notifications that announce accepts of these kinds (templates: `resources`). */
export function announcedLists(kinds: ReadonlySet<PinKind>): Set<AnnouncedList> {
  return new Set([...kinds].map((k) => LIST_OF[k]));
}
