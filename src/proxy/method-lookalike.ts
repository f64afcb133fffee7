/**
 * Methods warden inspects, routes or judges. A request whose method only looks like one of them
 * (`Tools/Call`, `tools/call\u0000`, full-width letters, a zero-width space) is none of them to
 * warden, so it would pass as an unknown method: forwarded unchanged and unjudged. The SDKs
 * match method names exactly and would refuse it, but a lenient server (one that lower-cases or
 * trims the method) would run it as a tool call that no policy saw. Refused instead: no client
 * has a reason to send such a name.
 */
const INSPECTED = [
  'initialize', 'ping', 'tools/call', 'tools/list', 'resources/read', 'resources/list', 'resources/templates/list',
  'resources/subscribe', 'resources/unsubscribe', 'prompts/get', 'prompts/list', 'completion/complete', 'logging/setLevel',
  // Refused (unsupported-tasks.ts): a look-alike must not reach a lenient server either.
  'tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel',
];
const EXACT = new Set(INSPECTED);
const BY_FOLDED = new Map(INSPECTED.map((m) => [m.toLowerCase(), m]));

// Controls, format characters (zero-width, bidi) and separators: invisible or blank in a method name.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}]/gu;

/** The inspected method `method` imitates without being it, else undefined. */
export function imitatedMethod(method: string): string | undefined {
  if (EXACT.has(method)) return undefined;
  return BY_FOLDED.get(method.normalize('NFKC').replace(INVISIBLE, '').toLowerCase());
}

/**
 * Notifications warden routes or gates by name, either way: progress (to the request it belongs
 * to), cancellations (mapped to warden's ids), resource updates (only for held subscriptions) and
 * the list announcements it counts. A look-alike (`notifications/Progress`,
 * `notifications/resources/updated ` with a space) skips the gate: an upstream's would reach the
 * agent unchecked (progress it forged for another upstream's call, an update for a URI the agent
 * never subscribed to), the agent's would reach every upstream unmapped. A lenient peer that folds
 * method names would act on it. Dropped instead.
 */
const NOTIFICATIONS = [
  'notifications/progress', 'notifications/cancelled', 'notifications/resources/updated',
  'notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed',
];
const NOTIFICATIONS_EXACT = new Set(NOTIFICATIONS);
const NOTIFICATIONS_BY_FOLDED = new Map(NOTIFICATIONS.map((m) => [m, m]));

/** The gated notification `method` imitates without being it, else undefined. */
export function imitatedNotification(method: string): string | undefined {
  if (NOTIFICATIONS_EXACT.has(method)) return undefined;
  return NOTIFICATIONS_BY_FOLDED.get(method.normalize('NFKC').replace(INVISIBLE, '').toLowerCase());
}
