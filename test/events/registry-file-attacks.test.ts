import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import { RegistryFile } from '../../src/events/registry-file.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { tempDir } from '../helpers/warden-process.js';
import { MemoryAudit, principal } from './set-helpers.js';

/**
 * The revocations file carries claim overrides as well as revocations: whoever can write it can
 * give any principal claims and scopes the policy trusts. Warden writes it owner-only (0600); a
 * file that others may write (planted in a shared folder, or loosened) must not be taken in.
 */
const T0 = 1_700_000_000_000;
const grant = {
  v: 1,
  entries: [{ kind: 'claims', id: 'x1', match: { user: 'mallory' }, at: T0, eventId: 'forged', reason: 'r', claims: { scope: 'admin:all', groups: ['admin'] }, expiresAt: T0 + 86_400_000 }],
};

function plant(mode: number): string {
  const file = join(tempDir('warden-revfile-'), 'revocations.json');
  writeFileSync(file, JSON.stringify(grant));
  chmodSync(file, mode);
  return file;
}

describe('revocations file writable by others', () => {
  for (const mode of [0o666, 0o620, 0o602]) {
    it(`refuses a file with mode ${mode.toString(8)} instead of adopting its claim overrides`, async () => {
      const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0, file: new RegistryFile(plant(mode)) });
      const err = await registry.load().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WardenError);
      expect((err as WardenError).code).toBe('registry_file_insecure');
      expect(registry.effectivePrincipal(principal({ user: 'mallory' }), 's', T0).scopes).not.toContain('admin:all');
    });
  }

  it('still loads an owner-only file (0600, 0644)', async () => {
    for (const mode of [0o600, 0o644]) {
      const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0, file: new RegistryFile(plant(mode)) });
      await registry.load();
      expect(registry.list(T0)).toHaveLength(1);
    }
  });
});
