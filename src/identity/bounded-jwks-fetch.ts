/** Largest JWKS document accepted; a real one is a few KiB. */
export const MAX_JWKS_BYTES = 1024 * 1024;

/**
 * The body as text, refusing (and cancelling the download of) anything over `max` bytes: reading
 * it whole first and measuring afterwards let an endless response fill memory.
 */
export async function readBounded(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) {
    await res.body?.cancel();
    throw new Error('JWKS document too large');
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error('JWKS document too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A fetch for a library that reads a JWKS response whole (jose's remote key set): the body is read
 * here, bounded by MAX_JWKS_BYTES, and handed on as a small in-memory response. Over the bound it
 * rejects, as an unreachable key server does.
 */
export function boundedJwksFetch(base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    if (res.status !== 200) {
      await res.body?.cancel();
      return new Response(null, { status: res.status, statusText: res.statusText });
    }
    const text = await readBounded(res, MAX_JWKS_BYTES);
    return new Response(text, { status: 200, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
  };
}
