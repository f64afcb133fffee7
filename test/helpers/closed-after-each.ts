import { afterEach } from 'vitest';

/**
 * A list of things a test started (servers, wardens, clients, sockets) that are closed after each
 * test, newest first, whatever the test's outcome; a closer that throws or rejects does not stop
 * the others. Push a closer as soon as the thing is started.
 */
export function closedAfterEach(): Array<() => unknown> {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    while (closers.length) await Promise.resolve().then(closers.pop()!).catch(() => undefined);
  });
  return closers;
}
