import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openPinStore, type PinStore } from '../../src/pins/pin-store.js';
import { PinsConfigSchema, type PinsConfig } from '../../src/pins/pins-config.js';
import { MemoryAudit } from '../events/set-helpers.js';

/** The fixed clock of the pin store tests. */
export const T0 = Date.UTC(2026, 0, 1);

export interface OpenedPinStore {
  readonly store: PinStore;
  readonly audit: MemoryAudit;
  readonly config: PinsConfig;
}

/**
 * For one test file: opens pin stores (a pin file in a fresh temp folder unless `file` is given,
 * no watch, a fixed clock) and closes every one after each test.
 */
export function pinStoresClosedAfterEach(prefix: string): (overrides?: Record<string, unknown>, file?: string) => OpenedPinStore {
  const stores: PinStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });
  return (overrides = {}, file) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const config = PinsConfigSchema.parse({ file: file ?? join(dir, 'pins.json'), watch: false, ...overrides });
    const audit = new MemoryAudit();
    const store = openPinStore(config, { audit, clock: () => T0 });
    stores.push(store);
    return { store, audit, config };
  };
}
