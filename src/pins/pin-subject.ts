import type { PinSubject } from '../audit/events.js';
import type { PinKind } from './definition-digest.js';

/**
 * The field naming what a `pins.*` record is about: `tool`, `prompt` or `resourceTemplate` (the
 * kinds are spelled as their fields), so tool records keep the shape they always had.
 */
export function pinSubject(kind: PinKind, name: string): PinSubject {
  switch (kind) {
    case 'tool':
      return { tool: name };
    case 'prompt':
      return { prompt: name };
    case 'resourceTemplate':
      return { resourceTemplate: name };
  }
}

/** The names field of a first-use `pins.accepted`: `tools`, `prompts` or `resourceTemplates`. */
export function firstUseNames(kind: PinKind, names: readonly string[]): { tools: readonly string[] } | { prompts: readonly string[] } | { resourceTemplates: readonly string[] } {
  switch (kind) {
    case 'tool':
      return { tools: names };
    case 'prompt':
      return { prompts: names };
    case 'resourceTemplate':
      return { resourceTemplates: names };
  }
}
