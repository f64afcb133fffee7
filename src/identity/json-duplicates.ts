interface Frame {
  readonly object: boolean;
  readonly keys: Set<string>;
  expectKey: boolean;
}

/**
 * Returns the first member name that appears twice in one JSON object (at any depth), or
 * undefined. JSON.parse silently keeps the last duplicate, so a token with `"sub":"alice"`
 * twice could mean different things to different parsers; we reject it instead.
 * Precondition: `text` is valid JSON (call after JSON.parse succeeded), so the scanner only
 * tracks structure and keys. Keys are compared after unescaping (`"a"` equals `"\u0061"`).
 */
export function findDuplicateKey(text: string): string | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      const end = endOfString(text, i);
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    } else if (ch === 0x7b /* { */) {
      stack.push({ object: true, keys: new Set(), expectKey: true });
    } else if (ch === 0x5b /* [ */) {
      stack.push({ object: false, keys: new Set(), expectKey: false });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
    }
  }
  return undefined;
}

/** Index of the closing quote of the string literal starting at `start`. */
function endOfString(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22) return j;
  }
  return text.length - 1;
}
