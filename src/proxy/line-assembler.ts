/** Reads joined into one block once they add up to this many characters (or BLOCK_READS reads). */
const BLOCK_CHARS = 64 * 1024;
const BLOCK_READS = 256;

/**
 * The start of one unfinished line, collected across pipe reads and joined once, when its newline
 * arrives (joining with every read and searching the whole again was quadratic in the line's
 * length). Reads are not kept one by one: a child writing a byte at a time would leave one string
 * object per byte (some 40 bytes each, over a gigabyte for a line under the default 32 MiB bound).
 * They are joined into blocks of about 64 KiB as they arrive, which copies each character once
 * more: linear time, and at most BLOCK_READS small reads held besides the blocks.
 */
export class LineAssembler {
  private blocks: string[] = [];
  private recent: string[] = [];
  private recentChars = 0;
  private chars = 0;

  /** Characters held. */
  get length(): number {
    return this.chars;
  }

  /** String objects held (for tests). */
  get parts(): number {
    return this.blocks.length + this.recent.length;
  }

  add(part: string): void {
    if (part.length === 0) return;
    this.recent.push(part);
    this.recentChars += part.length;
    this.chars += part.length;
    if (this.recentChars < BLOCK_CHARS && this.recent.length < BLOCK_READS) return;
    this.blocks.push(this.recent.length === 1 ? this.recent[0]! : this.recent.join(''));
    this.recent = [];
    this.recentChars = 0;
  }

  /** The whole line: what is held, then `tail`. Nothing is held afterwards. */
  take(tail: string): string {
    const line = this.blocks.concat(this.recent, tail).join('');
    this.clear();
    return line;
  }

  clear(): void {
    this.blocks = [];
    this.recent = [];
    this.recentChars = 0;
    this.chars = 0;
  }
}
