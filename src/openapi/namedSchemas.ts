// The table's data shapes as named components (#/components/schemas/ApiUser), so that a
// client generator makes one ApiUser type rather than one per operation. The names are the
// WSDL complexType names the schemas already carry (`xmlType`): one name per shape in both
// documents. The SOAP-only hints (`xmlType`, `xmlItem`) are dropped: they mean nothing in
// JSON, and a strict JSON Schema validator would refuse them as unknown keywords.
import type { JsonSchema } from '../operations/jsonSchema.js';

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

/** Keywords whose value is one subschema, and those whose value is a list or a map of them. */
const SUBSCHEMA = ['items', 'not', 'additionalProperties', 'contains', 'propertyNames'] as const;
const SUBSCHEMA_LISTS = ['anyOf', 'allOf', 'oneOf', 'prefixItems'] as const;

export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The schema, with every named object in it replaced by a reference to its component. */
  use(schema: JsonSchema): JsonSchema {
    const { xmlType, xmlItem: _soapOnly, ...plain } = schema;
    const walked = this.walk(plain);
    // Arrays keep their SOAP name (ArrayOfApiUser) to themselves: in JSON they are plain lists.
    if (typeof xmlType !== 'string' || schema.type !== 'object') return walked;
    const known = this.schemas[xmlType];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(walked)) {
      // One name must mean one shape, or a client would get the wrong type for one of them.
      throw new Error(`Two different schemas are both named ${xmlType}.`);
    }
    this.schemas[xmlType] = walked;
    return { $ref: `${SCHEMA_REF_PREFIX}${xmlType}` };
  }

  private walk(schema: JsonSchema): JsonSchema {
    const walked: Record<string, unknown> = { ...schema };
    if (schema.properties) {
      walked['properties'] = Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, this.use(property)]));
    }
    for (const keyword of SUBSCHEMA) {
      const value = schema[keyword];
      if (isSchema(value)) walked[keyword] = this.use(value);
    }
    for (const keyword of SUBSCHEMA_LISTS) {
      const value = schema[keyword];
      if (Array.isArray(value)) walked[keyword] = value.map((item: unknown) => (isSchema(item) ? this.use(item) : item));
    }
    return walked as JsonSchema;
  }
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
