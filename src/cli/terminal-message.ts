import { terminalText } from '../audit/escape-unsafe.js';

/**
 * An error message made safe to print: it can quote config keys, YAML source lines and file
 * names, and an ESC/CSI/OSC sequence among them would drive the operator's terminal (rewrite the
 * screen, set the title or the clipboard). Control and invisible characters are shown as
 * `\uXXXX`; the message's own line breaks are kept.
 */
export function terminalMessage(text: string): string {
  return text.split('\n').map(terminalText).join('\n');
}
