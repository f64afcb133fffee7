import { didYouMean } from '../core/closest-name.js';

// The matching itself is shared with the config and policy loaders (unknown keys).
export { didYouMean } from '../core/closest-name.js';

/**
 * The parse error of node:util parseArgs with a suggestion for a mistyped option
 * (`Unknown option '--jsn'` → `… (did you mean '--json'?)`), taken from the options the
 * command's help text names (so only documented options are suggested); other messages unchanged.
 */
export function withOptionHint(message: string, help: string): string {
  const m = /^Unknown option '(--[^'=]+)/.exec(message);
  if (!m) return message;
  const given = m[1] as string;
  const hint = didYouMean(given, [...new Set(help.match(/--[a-z][a-z-]*/g) ?? [])]);
  // With a hint, node's advice about positionals starting with '-' only distracts from it.
  return hint === '' ? message : `Unknown option '${given}'${hint}`;
}
