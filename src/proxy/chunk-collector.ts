/** Chunks joined into one block once they add up to this many bytes (or BLOCK_CHUNKS chunks). */
const BLOCK_BYTES = 64 * 1024;
const BLOCK_CHUNKS = 256;

/**
 * Bytes from a peer as they arrive (a request body; an HTTP upstream's answer), joined once when
 * needed. Chunks are not kept one by one: a peer dripping its bytes one per TCP segment gets one
 * Buffer per byte from Node, at some 190 bytes of memory each, so a request body under
 * `maxBodyBytes` (4 MiB) held ~800 MB, and the body budget (which counts body bytes) let one
 * principal hold several such bodies at once. They are joined into blocks of about 64 KiB as they
 * arrive, which copies each byte once more: linear time, and at most BLOCK_CHUNKS small chunks
 * held besides the blocks.
 */
export class ChunkCollector {
  private blocks: Buffer[] = [];
  private recent: Buffer[] = [];
  private recentBytes = 0;
  private bytes = 0;

  /** Bytes held. */
  get length(): number {
    return this.bytes;
  }

  /** Buffer objects held (for tests). */
  get parts(): number {
    return this.blocks.length + this.recent.length;
  }

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.recent.push(chunk);
    this.recentBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.recentBytes < BLOCK_BYTES && this.recent.length < BLOCK_CHUNKS) return;
    this.blocks.push(this.recent.length === 1 ? this.recent[0]! : Buffer.concat(this.recent, this.recentBytes));
    this.recent = [];
    this.recentBytes = 0;
  }

  /** Everything held, in one Buffer (the chunk itself when only one is held: no copy). */
  concat(): Buffer {
    if (this.parts === 1) return this.blocks[0] ?? this.recent[0]!;
    return Buffer.concat(this.blocks.concat(this.recent), this.bytes);
  }

  clear(): void {
    this.blocks = [];
    this.recent = [];
    this.recentBytes = 0;
    this.bytes = 0;
  }
}
