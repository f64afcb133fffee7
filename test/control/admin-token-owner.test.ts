import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateAdminToken } from '../../src/control/admin-token.js';
import { ConfigError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/warden-process.js';

/**
 * The admin token grants approval and revocation power. A token file that belongs to another
 * user lets that user set it (mode 0600 keeps others out, not the owner): with warden run as
 * root and the file bob's, bob would choose root's admin credential.
 */
const asRoot = process.getuid?.() === 0;

describe('admin token file ownership', () => {
  // Giving a file to another user needs root; CI runs as root.
  it.runIf(asRoot)('refuses an admin token file owned by another user (control.adminTokenFile)', () => {
    const file = join(tempDir(), 'admin-token');
    writeFileSync(file, `${'x'.repeat(40)}\n`, { mode: 0o600 });
    chownSync(file, 65534, 65534); // nobody
    let error: unknown;
    try {
      loadOrCreateAdminToken({ file });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).keyPath).toBe('control.adminTokenFile');
    expect((error as Error).message).toMatch(/owned by another user/);
  });

  it('reads an admin token file the user warden runs as owns', () => {
    const file = join(tempDir(), 'admin-token');
    writeFileSync(file, `${'y'.repeat(40)}\n`, { mode: 0o600 });
    expect(loadOrCreateAdminToken({ file }).token).toBe('y'.repeat(40));
  });
});

describe('approver token file ownership', () => {
  it.runIf(asRoot)('refuses an approver token file owned by another user (it grants approval power)', async () => {
    const { readSecretFile } = await import('../../src/control/admin-token.js');
    const file = join(tempDir(), 'carol');
    writeFileSync(file, `${'z'.repeat(40)}\n`, { mode: 0o600 });
    chownSync(file, 65534, 65534);
    expect(() => readSecretFile(file, 'approvals.approvers[0].tokenFile')).toThrow(/owned by another user/);
  });
});
