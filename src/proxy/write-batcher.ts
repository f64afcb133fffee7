import type { Writable } from 'node:stream';

/**
 * Coalesces the messages produced in one event-loop turn into one write: under load a proxy
 * otherwise spends most of its CPU in one write(2) per message.
 */
export class WriteBatcher {
  private parts: string[] = [];
  private scheduled = false;

  constructor(private readonly out: () => Writable | undefined) {}

  push(line: string): void {
    this.parts.push(line);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const data = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    const out = this.out();
    if (out && !out.destroyed && out.writable) out.write(data);
  };
}
