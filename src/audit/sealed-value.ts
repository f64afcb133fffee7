/**
 * Values sealed for the audit: deeply frozen, so their canonical (redacted) text can never change
 * and a serializer may compute it once and reuse it. Only plain data (objects, arrays, scalars)
 * is sealed; the registry holds its values weakly.
 */
const SEALED = new WeakSet<object>();

function deepFreeze(value: unknown, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 32) return;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key], depth + 1);
  Object.freeze(value);
}

/** Deep-freezes `value` and marks it as safe to serialize once per sink (see createCanonicalRedactor). */
export function sealForAudit<T extends object>(value: T): T {
  deepFreeze(value, 0);
  SEALED.add(value);
  return value;
}

/** True for values passed through sealForAudit (and therefore deeply immutable). */
export function isSealedForAudit(value: object): boolean {
  return SEALED.has(value);
}
