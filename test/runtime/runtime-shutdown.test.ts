import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/logger.js';
import { runtimeShutdown, type Closer } from '../../src/runtime/runtime-shutdown.js';
import { stoppableFetch, StartupInterruptedError, throwIfStopRequested } from '../../src/runtime/startup-stop.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';

describe('runtimeShutdown', () => {
  it('closes parts newest first, then records warden.stop, then closes the audit sink', async () => {
    const order: string[] = [];
    const audit = createRecordingAudit();
    const closers: Closer[] = [() => void order.push('first'), () => void order.push('second')];
    const shutdown = runtimeShutdown(closers, { ...audit, close: async () => void order.push('audit') }, silentLogger());
    // Parts added after the shutdown was created (later start-up steps) are closed too.
    closers.push(() => void order.push('third'));
    await shutdown('SIGTERM');
    expect(order).toEqual(['third', 'second', 'first', 'audit']);
    expect(audit.events.map((e) => e.type)).toEqual(['warden.stop']);
    expect(audit.events[0]).toMatchObject({ reason: 'SIGTERM' });
  });

  it('a second stop (second signal) does not close parts twice or write a record after warden.stop', async () => {
    let closed = 0;
    const audit = createRecordingAudit();
    const shutdown = runtimeShutdown([() => void closed++], audit, silentLogger());
    const first = shutdown('SIGTERM');
    const second = shutdown('SIGINT');
    expect(second).toBe(first);
    await Promise.all([first, second]);
    expect(closed).toBe(1);
    expect(audit.events).toEqual([expect.objectContaining({ type: 'warden.stop', reason: 'SIGTERM' })]);
  });

  it('a part that fails to close does not keep warden.stop out of the log', async () => {
    const audit = createRecordingAudit();
    const shutdown = runtimeShutdown([() => Promise.reject(new Error('EIO'))], audit, silentLogger());
    await shutdown('SIGTERM');
    expect(audit.ofType('warden.stop')).toHaveLength(1);
  });
});

describe('start-up stop request', () => {
  it('throws startup_interrupted with the signal name once a stop is requested', () => {
    const controller = new AbortController();
    expect(() => throwIfStopRequested(controller.signal)).not.toThrow();
    controller.abort('SIGINT');
    let thrown: unknown;
    try {
      throwIfStopRequested(controller.signal);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StartupInterruptedError);
    expect(thrown).toMatchObject({ code: 'startup_interrupted', reason: 'SIGINT' });
  });

  it('a stop request cancels a fetch that a slow key server holds, without losing the fetch timeout', async () => {
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const hanging = ((_: unknown, init?: RequestInit) => {
      seen.push(init!.signal!);
      return new Promise<Response>((_resolve, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)));
    }) as typeof fetch;
    const own = new AbortController();
    const pending = stoppableFetch(controller.signal, hanging)('http://127.0.0.1:1/jwks', { signal: own.signal });
    controller.abort('SIGTERM');
    await expect(pending).rejects.toBe('SIGTERM');
    // The caller's own signal still counts: a timeout alone also ends the fetch.
    const second = stoppableFetch(new AbortController().signal, hanging)('http://127.0.0.1:1/jwks', { signal: own.signal });
    own.abort('timeout');
    await expect(second).rejects.toBe('timeout');
    expect(seen).toHaveLength(2);
  });
});
