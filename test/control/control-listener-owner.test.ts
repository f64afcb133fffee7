import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveControlTarget } from '../../src/control/control-client.js';
import { advertiseControlUrl, readControlUrlFile, writeControlUrlFile } from '../../src/control/control-url-file.js';
import { checkControlListener, tcpListenerUids } from '../../src/control/listener-owner.js';
import { tempDir } from '../helpers/warden-process.js';

const PROC_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:A0C1 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1950549 1
   1: 0100007F:A0C1 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1001        0 1950550 1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    65534       0 1066 1
`;
const fakeProc = (file: string): string => {
  if (file === '/proc/net/tcp') return PROC_TCP;
  throw Object.assign(new Error('absent'), { code: 'ENOENT' });
};

describe('who listens at a control URL', () => {
  it('reads listening sockets and their owners from /proc/net/tcp (established ones do not count)', () => {
    expect(tcpListenerUids(0xa0c1, fakeProc)).toEqual([1000]);
    expect(tcpListenerUids(8080, fakeProc)).toEqual([65534]);
    expect(tcpListenerUids(1, fakeProc)).toEqual([]);
    expect(checkControlListener('http://127.0.0.1:41153', [1000], fakeProc)).toEqual({ kind: 'trusted' });
    expect(checkControlListener('http://127.0.0.1:8080', [0, 1000], fakeProc)).toMatchObject({ kind: 'untrusted' });
    expect(checkControlListener('http://127.0.0.1:1', [1000], fakeProc)).toEqual({ kind: 'unknown' });
  });

  it('a unix: control URL must name a socket of a trusted user, not a file planted at that path', async () => {
    const dir = tempDir('warden-control-sock-');
    const planted = join(dir, 'planted.sock');
    writeFileSync(planted, '');
    expect(checkControlListener(`unix:${planted}`, [process.getuid?.() ?? 0])).toMatchObject({ kind: 'untrusted' });
    const server = createServer();
    const path = join(dir, 'control.sock');
    await new Promise<void>((ok) => server.listen(path, ok));
    try {
      const me = process.getuid?.() ?? 0;
      expect(checkControlListener(`unix:${path}`, [me])).toEqual({ kind: 'trusted' });
      expect(checkControlListener(`unix:${path}`, [me + 1])).toMatchObject({ kind: 'untrusted' });
    } finally {
      await close(server);
    }
    expect(checkControlListener(`unix:${join(dir, 'none.sock')}`, [0])).toEqual({ kind: 'unknown' });
  });
});

// The squatter below runs as `nobody`, which only root can arrange; these run where tests run as root.
const asRoot = process.getuid?.() === 0 && process.platform === 'linux';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

/** Another local user (nobody) listening on `port`, as if it took the port a warden gave up. */
async function squat(port: number): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer((s) => s.destroy()).listen(${port}, '127.0.0.1', () => console.log('up'))`], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((ok, fail) => {
    child.stdout?.once('data', () => ok());
    child.once('exit', (code) => fail(new Error(`squatter exited ${code}`)));
  });
}

async function listenLocal(): Promise<Server> {
  const server = createServer((_req, res) => res.end());
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}
const portOf = (s: Server): number => (s.address() as AddressInfo).port;
const close = (s: Server): Promise<void> => new Promise((ok) => s.close(() => ok()));

describe.runIf(asRoot)('a control port taken over by another user', () => {
  it('a CLI does not send the admin credential to a stale control-url port another user now listens on', async () => {
    const dir = tempDir('warden-control-squat-');
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, `${'t'.repeat(43)}\n`, { mode: 0o600 });
    // A warden that was killed left its URL behind; its port is free for anyone.
    const gone = await listenLocal();
    const port = portOf(gone);
    writeControlUrlFile(tokenFile, `http://127.0.0.1:${port}`);
    await close(gone);
    await squat(port);
    let code: string | undefined;
    try {
      resolveControlTarget({ tokenFile }, {}, dir);
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('control_unavailable');
  });

  it('a stopping warden does not give control-url back to a displaced port another user now listens on', async () => {
    const dir = tempDir('warden-control-giveback-');
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, `${'t'.repeat(43)}\n`, { mode: 0o600 });
    const older = await listenLocal();
    const olderPort = portOf(older);
    const olderUrl = `http://127.0.0.1:${olderPort}`;
    writeControlUrlFile(tokenFile, olderUrl);
    const newer = await listenLocal();
    const advert = await advertiseControlUrl(tokenFile, `http://127.0.0.1:${portOf(newer)}`);
    expect(advert.displaced).toBe(olderUrl);
    // The older warden stops; another user takes its port before the newer one stops.
    await close(older);
    await squat(olderPort);
    expect(await advert.withdraw()).not.toBe('restored');
    expect(readControlUrlFile(tokenFile)).not.toBe(olderUrl);
    await close(newer);
  });
});
