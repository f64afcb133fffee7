/**
 * How many approval requests each principal has pending (or registering), for
 * `approvals.maxPendingPerPrincipal`: without a share of its own, one looping agent fills the
 * global `maxPending` alone, every other principal's calls are denied unasked, and the approvers
 * face a wall of one agent's requests. Only principals with something pending are kept.
 */
export class PendingShares {
  private readonly counts = new Map<string, number>();

  count(owner: string): number {
    return this.counts.get(owner) ?? 0;
  }

  hold(owner: string): void {
    this.counts.set(owner, this.count(owner) + 1);
  }

  letGo(owner: string): void {
    const left = this.count(owner) - 1;
    if (left > 0) this.counts.set(owner, left);
    else this.counts.delete(owner);
  }
}
