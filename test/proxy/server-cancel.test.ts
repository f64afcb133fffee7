import { describe, expect, it } from 'vitest';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startStdioWardenWithClient } from '../helpers/in-process-warden.js';

describe('cancellation from the server side', () => {
  it('relays the upstream cancelling its own sampling request to the agent under the relayed id', async () => {
    let aborted: (() => void) | undefined;
    const abortedSeen = new Promise<void>((resolve) => (aborted = resolve));
    const w = await startStdioWardenWithClient({}, {
      client: {
        capabilities: { sampling: {} },
        setup: (client) =>
          client.setRequestHandler(CreateMessageRequestSchema, (_req, extra) =>
            new Promise((_resolve, reject) => {
              // Never answers; the server gives up and cancels, which must abort this handler.
              extra.signal.addEventListener('abort', () => {
                aborted!();
                reject(new Error('cancelled'));
              });
            }),
          ),
      },
    });
    try {
      const result = await w.client.callTool({ name: 'ask_llm', arguments: { question: 'slow?', timeoutMs: 200 } });
      expect(result.isError).toBe(true);
      await abortedSeen;
      const still = await w.client.callTool({ name: 'echo', arguments: { message: 'ok' } });
      expect(still.content).toEqual([{ type: 'text', text: 'ok' }]);
    } finally {
      await w.close();
    }
  });
});
