/** Parts joined into one block once they add up to this size (or BLOCK_PARTS parts). */
const BLOCK_SIZE = 64 * 1024;
const BLOCK_PARTS = 256;

/**
 * Data from a peer as it arrives, held until it is needed whole (a request body, an HTTP
 * upstream's answer, one unfinished line from a child's stdout). Parts are not kept one by one:
 * a peer dripping a byte at a time gets one Buffer (some 190 bytes each) or one string (some 40)
 * per byte from Node, so a 4 MiB body held ~800 MB and a 32 MiB line over a gigabyte. They are
 * joined into blocks of about 64 KiB as they arrive, which copies each byte once more: linear
 * time, and at most BLOCK_PARTS small parts held besides the blocks.
 */
export class BlockJoiner<T extends { readonly length: number }> {
  private blocks: T[] = [];
  private recent: T[] = [];
  private recentSize = 0;
  private size = 0;

  /** `join(parts, size)` makes one part of several whose lengths add up to `size`. */
  constructor(private readonly join: (parts: T[], size: number) => T) {}

  /** Bytes (or characters) held. */
  get length(): number {
    return this.size;
  }

  /** Parts held (for tests). */
  get parts(): number {
    return this.blocks.length + this.recent.length;
  }

  add(part: T): void {
    if (part.length === 0) return;
    this.recent.push(part);
    this.recentSize += part.length;
    this.size += part.length;
    if (this.recentSize < BLOCK_SIZE && this.recent.length < BLOCK_PARTS) return;
    this.blocks.push(this.recent.length === 1 ? this.recent[0]! : this.join(this.recent, this.recentSize));
    this.recent = [];
    this.recentSize = 0;
  }

  /** Everything held, then `tail` if given, as one part (the part itself when only one: no copy). */
  whole(tail?: T): T {
    const all = this.blocks.concat(this.recent);
    if (tail !== undefined && tail.length > 0) all.push(tail);
    const size = this.size + (tail?.length ?? 0);
    return all.length === 1 ? all[0]! : this.join(all, size);
  }

  clear(): void {
    this.blocks = [];
    this.recent = [];
    this.recentSize = 0;
    this.size = 0;
  }
}

/** Bytes from a socket or stream (request bodies, HTTP upstream answers). */
export class ChunkCollector extends BlockJoiner<Buffer> {
  constructor() {
    super((parts, size) => Buffer.concat(parts, size));
  }

  /** Everything held, in one Buffer. */
  concat(): Buffer {
    return this.whole();
  }
}

/** The start of one unfinished line, collected across pipe reads and joined once, when its newline arrives. */
export class LineAssembler extends BlockJoiner<string> {
  constructor() {
    super((parts) => parts.join(''));
  }

  /** The whole line: what is held, then `tail`. Nothing is held afterwards. */
  take(tail: string): string {
    const line = this.whole(tail);
    this.clear();
    return line;
  }
}
