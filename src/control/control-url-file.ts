import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_CONTROL_PORT } from './control-config.js';

/**
 * A running warden writes its control URL next to the admin token file, so `warden approve`,
 * `warden sessions` and `warden revoke` find a control API bound to a free port (port 0)
 * without flags. The file holds a loopback URL only; the token file stays the secret.
 */
export function controlUrlFileFor(adminTokenFile: string): string {
  return join(dirname(adminTokenFile), 'control-url');
}

export function writeControlUrlFile(adminTokenFile: string, url: string): void {
  writeFileSync(controlUrlFileFor(adminTokenFile), `${url}\n`, { mode: 0o600 });
}

/** The URL a running warden advertised beside this token file, else the default port. */
export function advertisedControlUrl(adminTokenFile: string): string {
  try {
    const url = readFileSync(controlUrlFileFor(adminTokenFile), 'utf8').trim();
    if (url !== '') return url;
  } catch {
    // No running warden advertised a URL here: fall back to the documented default.
  }
  return `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`;
}
