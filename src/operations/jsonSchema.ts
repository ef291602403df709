// The operation table's schemas as JSON Schema (draft 2020-12), the one neutral description
// that the SOAP door (to read and write XML), the WSDL check and the API documents walk.
import { z } from 'zod';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  format?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | JsonSchema;
  /** The WSDL complexType of an object or array. */
  xmlType?: string;
  /** The element each item of an array is wrapped in. */
  xmlItem?: string;
  [keyword: string]: unknown;
}

export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** The schema without its `| null`, and whether it had one. */
export function unwrapNullable(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  // zod writes `type: ["string", "null"]` for simple types and anyOf for the others.
  if (Array.isArray(schema.type) && schema.type.includes('null')) {
    const types = schema.type.filter((type) => type !== 'null');
    return { schema: { ...schema, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  const variants = schema.anyOf;
  if (variants?.length === 2) {
    const other = variants.find((variant) => variant.type !== 'null');
    if (other && variants.some((variant) => variant.type === 'null')) return { schema: other, nullable: true };
  }
  return { schema, nullable: false };
}

/** REST field name to SOAP element name: `canManageAccount` is `CanManageAccount`. */
export function soapElementName(field: string): string {
  return field.charAt(0).toUpperCase() + field.slice(1);
}
