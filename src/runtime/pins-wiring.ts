import type { AuditSink } from '../audit/audit-sink.js';
import type { WardenConfig } from '../config/config-schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../logging/logger.js';
import { openPinStore, type PinStore } from '../pins/pin-store.js';

/** The pin store when pinning is enabled, with its file resolved against the config folder. */
export function openPins(
  config: WardenConfig,
  at: (path: string) => string,
  deps: { audit: AuditSink; clock: Clock; logger: Logger; onListingChange?: () => void },
): PinStore | undefined {
  if (!config.pins.enabled) return undefined;
  return openPinStore({ ...config.pins, file: at(config.pins.file) }, deps);
}
