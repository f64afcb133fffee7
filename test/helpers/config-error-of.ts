import { ConfigError } from '../../src/core/errors.js';

/** The ConfigError `fn` throws; anything else thrown is rethrown, and no throw fails the test. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
