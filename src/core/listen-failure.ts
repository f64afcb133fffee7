import { WardenError } from './errors.js';

/**
 * A listener that cannot bind, named by its config key (the caller adds the config file): a
 * runtime conflict (CLI exit 4), not an invalid config. Node's own `listen EADDRINUSE: address
 * already in use 127.0.0.1:8787` names neither the key to change nor what to do about it.
 * Other errors are returned as they are.
 */
export function listenFailure(err: Error, key: string, host: string, port: number, advice: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new WardenError('listen_failed', `${key}: ${at} is already in use (EADDRINUSE): ${advice}`, { cause: err });
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new WardenError('listen_failed', `${key}: cannot listen on ${at} (${code}: ${err.message})`, { cause: err });
  }
  return err;
}
