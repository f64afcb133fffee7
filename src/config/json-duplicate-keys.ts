/**
 * The first key that occurs twice in one object of a JSON text, with its key path
 * (`upstreams.acme.command`; `[]` for an array item), or undefined. JSON.parse keeps the last of
 * duplicate keys silently, so a reviewer reading the first `dangerouslyAllowAnonymous: false`
 * would not see the later `true` that wins; YAML configs already reject duplicates.
 * Call it only on text JSON.parse accepted: it relies on the syntax being valid.
 */
export function findDuplicateJsonKey(text: string): string | undefined {
  // One frame per open object (its keys so far) or array (null); `path` is the key path to it.
  const frames: { keys: Set<string> | null; path: string }[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      const parent = frames.at(-1);
      const path = parent === undefined ? '' : parent.keys === null ? `${parent.path}[]` : join(parent.path, lastKey);
      frames.push({ keys: ch === '{' ? new Set() : null, path });
    } else if (ch === '}' || ch === ']') {
      frames.pop();
    } else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const raw = text.slice(i, end + 1);
      i = end;
      let next = end + 1;
      while (text[next] === ' ' || text[next] === '\t' || text[next] === '\n' || text[next] === '\r') next++;
      const top = frames.at(-1);
      if (text[next] !== ':' || !top?.keys) continue;
      // Compared decoded: "\u0041" and "A" are the same key to JSON.parse.
      const key = JSON.parse(raw) as string;
      if (top.keys.has(key)) return join(top.path, key);
      top.keys.add(key);
      lastKey = key;
    }
  }
  return undefined;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
