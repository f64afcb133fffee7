import type { z } from 'zod';

/**
 * The keys a strict object schema allows at `path` below `root` (the object that refused
 * `unknownKeys` with zod's `unrecognized_keys` issue), in the schema's declared order; undefined
 * when the schema cannot be followed there. It only feeds a hint in an error message, so anything
 * unexpected gives up (undefined) rather than throwing.
 *
 * zod 4 issues do not carry the schema that raised them, so the schema is walked along the issue's
 * path through wrappers (optional, default, pipe, lazy, ...), records, arrays and unions. At a
 * union, the branches that could have refused the keys (none of them allows one) are kept, and of
 * those the one sharing most keys with the object actually given (`input` at `path`); with no input
 * or a tie, the allowed keys of all kept branches together.
 */
export function allowedKeysAt(root: z.ZodType, path: readonly PropertyKey[], unknownKeys: readonly string[], input?: unknown): string[] | undefined {
  try {
    const given = givenKeysAt(input, path);
    return keysAt(root, path, { unknownKeys, given }, 0);
  } catch {
    return undefined;
  }
}

interface WalkContext {
  readonly unknownKeys: readonly string[];
  /** The keys of the object given at the path, when the input was passed and reaches it. */
  readonly given: readonly string[] | undefined;
}

/** Nested wrappers and path steps deeper than this are not a real schema: give up. */
const MAX_DEPTH = 200;

/** The zod 4 internals this walk reads: `def.type` and the fields each kind keeps its parts in. */
interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
}

function defOf(schema: z.ZodType): Def | undefined {
  const def = (schema as { _zod?: { def?: unknown } })._zod?.def;
  return def !== null && typeof def === 'object' ? (def as Def) : undefined;
}

function keysAt(schema: z.ZodType | undefined, path: readonly PropertyKey[], ctx: WalkContext, depth: number): string[] | undefined {
  if (schema === undefined || depth > MAX_DEPTH) return undefined;
  const def = defOf(schema);
  if (def === undefined) return undefined;
  switch (def.type) {
    // Wrappers: the object is inside. Refinements need nothing: zod 4 keeps them as checks on the
    // object schema itself.
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'catch':
    case 'readonly':
      return keysAt(def.innerType, path, ctx, depth + 1);
    case 'lazy':
      return keysAt(def.getter?.(), path, ctx, depth + 1);
    // A transform validates with `in`; a preprocess (`in` is the transform) with `out`.
    case 'pipe':
      return keysAt(def.in, path, ctx, depth + 1) ?? keysAt(def.out, path, ctx, depth + 1);
    case 'union':
      return pickBranch((def.options ?? []).map((option) => keysAt(option, path, ctx, depth + 1)), ctx);
    case 'intersection':
      return mergeKeys([keysAt(def.left, path, ctx, depth + 1), keysAt(def.right, path, ctx, depth + 1)]);
    case 'object': {
      // Only a strict object (catchall never) refuses keys: another cannot be the one at fault.
      if (path.length === 0) return def.catchall !== undefined && defOf(def.catchall)?.type === 'never' ? Object.keys(def.shape ?? {}) : undefined;
      const [step, ...rest] = path;
      if (typeof step !== 'string' || def.shape === undefined || !Object.hasOwn(def.shape, step)) return undefined;
      return keysAt(def.shape[step], rest, ctx, depth + 1);
    }
    case 'record':
      return path.length === 0 ? undefined : keysAt(def.valueType, path.slice(1), ctx, depth + 1);
    case 'array':
      return typeof path[0] === 'number' ? keysAt(def.element, path.slice(1), ctx, depth + 1) : undefined;
    case 'tuple': {
      const index = path[0];
      if (typeof index !== 'number') return undefined;
      return keysAt(def.items?.[index] ?? def.rest ?? undefined, path.slice(1), ctx, depth + 1);
    }
    default:
      return undefined;
  }
}

/** Of a union's branches, the allowed keys of the one that most likely refused the keys. */
function pickBranch(branches: ReadonlyArray<string[] | undefined>, ctx: WalkContext): string[] | undefined {
  // A branch that allows one of the refused keys did not refuse it.
  const possible = branches.filter((keys): keys is string[] => keys !== undefined && !ctx.unknownKeys.some((k) => keys.includes(k)));
  if (possible.length <= 1 || ctx.given === undefined) return mergeKeys(possible);
  const given = ctx.given;
  const overlap = possible.map((keys) => given.filter((k) => keys.includes(k)).length);
  const most = Math.max(...overlap);
  return mergeKeys(possible.filter((_, i) => overlap[i] === most));
}

function mergeKeys(lists: ReadonlyArray<string[] | undefined>): string[] | undefined {
  const found = lists.filter((keys): keys is string[] => keys !== undefined);
  return found.length === 0 ? undefined : [...new Set(found.flat())];
}

/** The own keys of the object found at `path` in `input`, or undefined when there is none. */
export function givenKeysAt(input: unknown, path: readonly PropertyKey[]): string[] | undefined {
  let here = input;
  for (const step of path) {
    if (here === null || typeof here !== 'object') return undefined;
    const key = typeof step === 'number' ? String(step) : step;
    if (typeof key !== 'string' || !Object.hasOwn(here, key)) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here !== null && typeof here === 'object' && !Array.isArray(here) ? Object.keys(here) : undefined;
}
