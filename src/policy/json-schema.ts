import { z } from 'zod';
import { PolicySchema } from './policy-schema.js';

/**
 * JSON Schema (draft 2020-12) of the policy file format, generated from the zod schema so the
 * two cannot drift. Editors use it for completion and checking (`$schema` or yaml-language-server).
 * Semantic checks (regex safety, threshold order, duplicate ids) exist only in the zod schema.
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
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
