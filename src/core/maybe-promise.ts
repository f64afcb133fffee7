/**
 * A value now, or later. The per-call path (authenticate, decide, enforce, guard) answers
 * synchronously in the common case (cached token, in-memory state, allow): returning the value
 * itself instead of a settled promise spares each stage a promise and a microtask hop, which on
 * sequential calls is paid with cold caches. Only what really waits (a key fetch, a throttle
 * queue, a human) returns a promise.
 */
export type MaybePromise<T> = T | Promise<T>;

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Applies `next` to the value: at once when it is already here, after it settles otherwise. A
 * throw in `next` propagates the same way (thrown now, or as the rejection later).
 */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isThenable(value) ? (value as Promise<T>).then(next) : next(value as T);
}
