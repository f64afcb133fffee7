import { closestName } from '../core/closest-name.js';
import { ConfigError } from '../core/errors.js';
import type { Policy } from './policy-schema.js';

/**
 * The classes a tool can be counted in for `anomalies.rate.perClass`: the class of a name-only
 * sensitivity entry (its `class`, else its level's name; see toolClassOf) and `unclassified`.
 * An entry with `when` only raises a level, it gives no class.
 */
function toolClasses(policy: Policy): string[] {
  const classes = new Set<string>(['unclassified']);
  for (const entry of policy.sensitivity) if (entry.when === undefined) classes.add(entry.class ?? entry.level);
  return [...classes];
}

/**
 * Refuses a per-class rate limit for a class no tool is counted in. `perClass: { paymnets: 20 }`
 * (a typo for `payments`) loaded without a word and the payments velocity limit did not exist.
 * Checked on the merged policy: an overlay may add the entries that give a class.
 */
export function checkClassLimits(policy: Policy, file: string): void {
  const classes = toolClasses(policy);
  for (const name of Object.keys(policy.anomalies.rate.perClass)) {
    if (classes.includes(name)) continue;
    const meant = closestName(name, classes);
    throw new ConfigError(
      `no sensitivity entry counts a tool in class '${name}'${meant === undefined ? '' : ` (did you mean '${meant}'?)`}, so this limit would never apply; classes: ${classes.join(', ')}`,
      { file, keyPath: `anomalies.rate.perClass.${name}` },
    );
  }
}
