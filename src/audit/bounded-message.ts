/**
 * The longest upstream error message `call.result` keeps. An upstream may send one of tens of
 * megabytes (up to `limits.maxUpstreamMessageBytes`) on every call; kept whole, each failed call
 * would grow the audit by that much. Cut after redaction, so a cut never splits a secret that a
 * pattern would have found whole.
 */
export const MAX_RECORDED_ERROR_MESSAGE_CHARS = 4096;

/** `text` cut to MAX_RECORDED_ERROR_MESSAGE_CHARS, saying how much was left out. */
export function boundedErrorMessage(text: string): string {
  if (text.length <= MAX_RECORDED_ERROR_MESSAGE_CHARS) return text;
  let end = MAX_RECORDED_ERROR_MESSAGE_CHARS;
  // Never end on the first half of a surrogate pair (the record would hold a lone surrogate).
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}
