/**
 * The closest of `candidates` to a mistyped `input` (`polciy` → `policy`, `verfy` → `verify`),
 * or undefined when none is close enough to be the likely intent. Shared by the CLI (commands,
 * options) and the config and policy loaders (unknown keys).
 *
 * A candidate that differs only in case and in `-`/`_` separators (`max_body_bytes` →
 * `maxBodyBytes`, `--dry_run` → `--dry-run`) wins outright: that is a spelling convention, not a
 * typo, however many separators it takes. Otherwise close means at most one edit for short words
 * and two for longer ones (an edit: insert, delete, replace, or swap two neighbours), so a wholly
 * different word is never suggested.
 */
export function closestName(input: string, candidates: readonly string[]): string | undefined {
  const folded = foldSpelling(input);
  const sameSpelling = candidates.find((name) => name !== input && foldSpelling(name) === folded);
  if (sameSpelling !== undefined) return sameSpelling;
  const limit = input.length <= 4 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(input.toLowerCase(), name.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** ` (did you mean 'x'?)` for a message, or nothing when no candidate is close. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const name = closestName(input, candidates);
  return name === undefined ? '' : ` (did you mean '${name}'?)`;
}

/** Lower case without `-` and `_`: `max_body_bytes`, `max-body-bytes` and `maxBodyBytes` fold alike. */
function foldSpelling(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  // Names are short (commands, options, keys): a full table is cheap and clear.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
