import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** One scripted step: a tool call and what the story expects from it. */
export interface AgentStep {
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  /** `ok`: a normal result; `blocked`: a tool result with isError; `error`: a JSON-RPC error. */
  readonly expect: 'ok' | 'blocked' | 'error';
  readonly why: string;
}

export interface StepOutcome {
  readonly step: AgentStep;
  readonly got: 'ok' | 'blocked' | 'error';
  readonly summary: string;
}

/**
 * A deterministic stand-in for an LLM agent: makes the scripted calls in order and reports what
 * came back. A starting point for stories of your own (the demo makes its calls with
 * examples/demo/demo-agent.ts, which also reads warden's decision from each refusal).
 */
export async function runScriptedAgent(client: Client, steps: readonly AgentStep[], print: (line: string) => void): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    let got: StepOutcome['got'];
    let summary: string;
    try {
      const result = await client.callTool({ name: step.tool, arguments: step.arguments });
      got = result.isError ? 'blocked' : 'ok';
      const first = (result.content as Array<{ type: string; text?: string }> | undefined)?.[0];
      summary = first?.type === 'text' ? (first.text ?? '').slice(0, 70) : `${(result.content as unknown[] | undefined)?.length ?? 0} content items`;
    } catch (err) {
      got = 'error';
      summary = `JSON-RPC error ${(err as { code?: number }).code ?? '?'}`;
    }
    const mark = got === step.expect ? 'as expected' : `EXPECTED ${step.expect}`;
    print(`  ${step.tool.padEnd(18)} ${got.padEnd(7)} ${summary.replace(/\n/g, ' ')}  (${step.why}; ${mark})`);
    outcomes.push({ step, got, summary });
  }
  return outcomes;
}
