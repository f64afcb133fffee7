import type { JudgedAction } from './tool-call.js';

/** The lists whose definitions a judged request depends on: each has its own list_changed. */
export type DefinitionList = 'tools' | 'prompts' | 'resources';

/**
 * The list whose definitions a judged request is judged against: a tool call its tool's, a
 * prompt fetch its prompt's, a read or subscription the resource templates (and resources) it
 * goes through, a completion those of the prompt or template its `ref` names. Undefined: none
 * (a completion of a ref of another type).
 */
export function listJudgedAgainst(action: JudgedAction, args: unknown): DefinitionList | undefined {
  switch (action) {
    case 'tools/call':
      return 'tools';
    case 'prompts/get':
      return 'prompts';
    case 'resources/read':
    case 'resources/subscribe':
      return 'resources';
    case 'completion/complete': {
      const ref = typeof args === 'object' && args !== null ? (args as { ref?: unknown }).ref : undefined;
      const type = typeof ref === 'object' && ref !== null ? (ref as { type?: unknown }).type : undefined;
      return type === 'ref/prompt' ? 'prompts' : type === 'ref/resource' ? 'resources' : undefined;
    }
  }
}
