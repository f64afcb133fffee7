import { MemoryStateStore } from '../../src/state/memory-store.js';

/**
 * A store whose first write of a pending-approval record waits until `release()`: the moment an
 * approval request is still being registered (past the queue checks, not yet a waiter), which
 * the withdrawal of a security event cannot see. `held` resolves once that write is waiting.
 */
export class RegisteringStore extends MemoryStateStore {
  readonly held: Promise<void>;
  private markHeld: () => void = () => undefined;
  private open: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  constructor() {
    super();
    this.held = new Promise((resolve) => (this.markHeld = resolve));
  }

  release(): void {
    this.open();
  }

  override async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    if (key.startsWith('approval:pending:')) {
      this.markHeld();
      await this.gate;
    }
    return super.set(key, value, ttlMs);
  }
}
