import type { AdmittedCall } from './call-request.js';

/** The lists whose definitions a judged request depends on: each has its own list_changed. */
export type DefinitionList = 'tools' | 'prompts' | 'resources';

/**
 * How often an upstream announced each list changed (`notifications/{tools,prompts,resources}/
 * list_changed`; resource templates ride on the resources one), per upstream connection.
 *
 * A request is judged against definitions: a tool's, the prompt's or the resource template's
 * it uses (pins, the approval card). A judgement can take minutes (a human answering), and an
 * upstream that rewrites the definition meanwhile (a rug pull timed for the wait) would get the
 * call a person approved for the old one. So the count is read when the request is admitted and
 * again before a forward verdict is acted on; if it moved, the request is not forwarded, and
 * calling again lists and judges the definition afresh (pins included), as after a restart.
 */
export class DefinitionChanges {
  tools = 0;
  prompts = 0;
  resources = 0;

  /** Counts one announcement; false for a method that announces none of these lists. */
  announced(method: string): boolean {
    switch (method) {
      case 'notifications/tools/list_changed':
        this.tools += 1;
        return true;
      case 'notifications/prompts/list_changed':
        this.prompts += 1;
        return true;
      case 'notifications/resources/list_changed':
        this.resources += 1;
        return true;
      default:
        return false;
    }
  }
}

/**
 * The list whose definitions `call` is judged against: a tool call its tool's, a prompt fetch
 * its prompt's, a read or subscription the resource templates (and resources) it goes through,
 * a completion those of the prompt or template its `ref` names. Undefined: none (a completion of
 * a ref of another type).
 */
export function listJudgedAgainst(call: Pick<AdmittedCall, 'action' | 'args'>): DefinitionList | undefined {
  switch (call.action) {
    case 'tools/call':
      return 'tools';
    case 'prompts/get':
      return 'prompts';
    case 'resources/read':
    case 'resources/subscribe':
      return 'resources';
    case 'completion/complete': {
      const type = (call.args.ref as { type?: unknown } | undefined)?.type;
      return type === 'ref/prompt' ? 'prompts' : type === 'ref/resource' ? 'resources' : undefined;
    }
  }
}
