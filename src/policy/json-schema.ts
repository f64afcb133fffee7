import { z } from 'zod';
import { CONDITION_OPERATORS, ConditionSchema } from './condition-schema.js';
import { PolicySchema } from './policy-schema.js';

const NUMERIC_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'exists'] as const;

/**
 * The structural checks zod does in refinements, restated in JSON Schema so editors reject what
 * `policy check` rejects: exactly one operator per condition (a oneOf of `required`, which works
 * because every operator key is optional), `flags` only with `regex`, `nocase` not with numeric
 * operators or `exists`.
 */
function strictenCondition(json: Record<string, unknown>): void {
  json.oneOf = CONDITION_OPERATORS.map((op) => ({ required: [op] }));
  json.dependentRequired = { flags: ['regex'] };
  json.dependentSchemas = { nocase: { not: { anyOf: NUMERIC_OPERATORS.map((op) => ({ required: [op] })) } } };
}

/**
 * JSON Schema (draft 2020-12) of the policy file format, generated from the zod schema so the
 * two cannot drift. Editors use it for completion and checking (`$schema` or yaml-language-server).
 * Semantic checks (regex safety, threshold order, duplicate ids) exist only in the zod schema.
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicySchema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === ConditionSchema) strictenCondition(ctx.jsonSchema as Record<string, unknown>);
    },
  }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://mcp-warden.dev/schemas/policy.schema.json',
    title: 'mcp-warden policy',
  };
}

/** The schema as committed in policies/policy.schema.json (2-space JSON plus newline). */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
