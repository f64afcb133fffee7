import { lstatSync, readFileSync } from 'node:fs';

/** Reads a /proc file (injectable for tests). */
export type ProcReader = (file: string) => string;

const readProc: ProcReader = (file) => readFileSync(file, 'utf8');

/**
 * UIDs of the sockets listening on this TCP port (any address), from /proc/net/tcp and tcp6, or
 * undefined where that cannot be told (not Linux, no /proc).
 */
export function tcpListenerUids(port: number, read: ProcReader = readProc): number[] | undefined {
  if (process.platform !== 'linux' && read === readProc) return undefined;
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const uids: number[] = [];
  let readAny = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = read(file);
      readAny = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st ... uid: state 0A is LISTEN.
      if (cols[3] === '0A' && cols[1]?.endsWith(hexPort) && /^\d+$/.test(cols[7] ?? '')) uids.push(Number(cols[7]));
    }
  }
  return readAny ? uids : undefined;
}

/** Whether the process serving a control URL belongs to a trusted user. */
export type ListenerCheck = { readonly kind: 'trusted' } | { readonly kind: 'untrusted'; readonly problem: string } | { readonly kind: 'unknown' };

/**
 * Who serves a control URL. A loopback port (or socket path) that a warden gave up can be taken by
 * any local user, who would then receive the admin credential a CLI sends there: a listener that
 * belongs to a user outside `trustedUids` is `untrusted`. `unknown`: nobody listens, or the
 * platform does not say (only Linux /proc is read).
 */
export function checkControlListener(url: string, trustedUids: readonly number[], read: ProcReader = readProc): ListenerCheck {
  if (url.startsWith('unix:')) {
    try {
      const st = lstatSync(url.slice('unix:'.length));
      if (!st.isSocket()) return { kind: 'untrusted', problem: 'is not a socket' };
      return trustedUids.includes(st.uid) ? { kind: 'trusted' } : { kind: 'untrusted', problem: `is a socket of another user (uid ${st.uid})` };
    } catch {
      return { kind: 'unknown' };
    }
  }
  let port: number;
  try {
    const u = new URL(url);
    port = Number(u.port || 80);
  } catch {
    return { kind: 'unknown' };
  }
  const uids = tcpListenerUids(port, read);
  if (uids === undefined || uids.length === 0) return { kind: 'unknown' };
  const other = uids.find((uid) => !trustedUids.includes(uid));
  return other === undefined ? { kind: 'trusted' } : { kind: 'untrusted', problem: `is served by another user (uid ${other})` };
}
