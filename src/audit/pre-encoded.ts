import { canonicalJson } from '../core/canonical-json.js';
import type { RedactRules } from './redact-rules.js';

/**
 * A field value whose audit text was computed ahead of recording (createArgsEncoder), for the
 * sink whose redaction rules have key `rulesKey` and for the field `fieldKey` only. A serializer
 * with those rules writes `text` as it is; any other serializer writes `value` (the redacted
 * value, built on first use). JSON.stringify sees the redacted value too.
 */
export class PreEncodedField {
  #value: unknown;
  #make: (() => unknown) | undefined;

  constructor(
    readonly rulesKey: string,
    readonly fieldKey: string,
    /** The field's canonical, redacted, escaped text (undefined = omitted). */
    readonly text: string | undefined,
    make: () => unknown,
  ) {
    this.#make = make;
  }

  /** The redacted value, for serializers with other rules and for display. */
  get value(): unknown {
    if (this.#make !== undefined) {
      this.#value = this.#make();
      this.#make = undefined;
    }
    return this.#value;
  }

  toJSON(): unknown {
    return this.value;
  }
}

/** Identifies a rule set: two serializers with equal keys write every value the same way. */
export function rulesKey(rules: RedactRules): string {
  return canonicalJson({ paths: rules.paths ?? [], patterns: rules.patterns ?? [] });
}
