/**
 * `String(value)` for reasons and messages built from SET members. Those are untrusted JSON, and
 * String() of an object whose `toString` and `valueOf` are not callable (`{"toString":1}`)
 * throws: the event must still be judged (and audited), never fail the whole SET.
 */
export function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}
