import { readFileSync } from 'node:fs';

/** A sysfs attribute whose read(2) fails with EINVAL although it is a regular file (loopback has no link speed). */
export const FAILING_READ = '/sys/class/net/lo/speed';

/** Whether FAILING_READ fails to read here (Linux with sysfs); the tests that need it are skipped otherwise. */
export const readFails = ((): boolean => {
  try {
    readFileSync(FAILING_READ);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EINVAL';
  }
})();
