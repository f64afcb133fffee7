import { describe, expect, it } from 'vitest';
import { PromptsJudged } from '../../src/proxy/prompts-judged.js';
import type { UpstreamConnection } from '../../src/proxy/upstream-connection.js';

/** Only what PromptsJudged reads of a connection: its name and which process (generation) runs. */
function upstream(name: string): { name: string; generation: number } {
  return { name, generation: 1 };
}
const asConnection = (u: { name: string; generation: number }): UpstreamConnection => u as unknown as UpstreamConnection;

describe('PromptsJudged: a prompts/get is judged only by a listing of the process running now', () => {
  it('an upstream restarted since its prompts were listed (rug pull by restart) must be listed again', () => {
    const judged = new PromptsJudged();
    const acme = upstream('acme');
    expect(judged.current(asConnection(acme))).toBe(false); // never listed in this session
    judged.listed(asConnection(acme), judged.stamp(asConnection(acme)));
    expect(judged.current(asConnection(acme))).toBe(true);
    acme.generation = 2;
    expect(judged.current(asConnection(acme))).toBe(false);
  });

  it('prompts/list_changed voids the judgement, also of a listing that was under way when it came', () => {
    const judged = new PromptsJudged();
    const acme = asConnection(upstream('acme'));
    const other = asConnection(upstream('other'));
    judged.listed(acme, judged.stamp(acme));
    judged.listed(other, judged.stamp(other));
    const asked = judged.stamp(acme); // a listing starts...
    judged.changed(acme); // ...the upstream announces a change before it is answered
    expect(judged.current(acme)).toBe(false);
    judged.listed(acme, asked);
    expect(judged.current(acme)).toBe(false);
    expect(judged.current(other)).toBe(true); // another upstream is not affected
    judged.listed(acme, judged.stamp(acme));
    expect(judged.current(acme)).toBe(true);
  });
});
