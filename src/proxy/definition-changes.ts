import type { DefinitionList } from '../core/definition-lists.js';

export type { DefinitionList };

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

  /** Counts one announcement: the list it announces, or undefined for another method. */
  announced(method: string): DefinitionList | undefined {
    switch (method) {
      case 'notifications/tools/list_changed':
        this.tools += 1;
        return 'tools';
      case 'notifications/prompts/list_changed':
        this.prompts += 1;
        return 'prompts';
      case 'notifications/resources/list_changed':
        this.resources += 1;
        return 'resources';
      default:
        return undefined;
    }
  }
}
