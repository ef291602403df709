// The part of OpenAPI 3.1 this gateway writes, typed so that the generator cannot emit a
// misspelt field. Schemas are JSON Schema 2020-12, which OpenAPI 3.1 takes as they are.
import type { JsonSchema } from '../operations/jsonSchema.js';

export interface Reference {
  $ref: string;
}

export interface HeaderObject {
  description: string;
  schema: JsonSchema;
}

export interface MediaTypeObject {
  schema: JsonSchema;
  examples?: Record<string, { summary: string; value: unknown }>;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, Reference>;
  content?: Record<string, MediaTypeObject>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
}

export interface RequestBodyObject {
  required: boolean;
  content: Record<string, MediaTypeObject>;
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description: string;
  security: Array<Record<string, string[]>>;
  parameters?: ParameterObject[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject>;
}

export type PathItemObject = Partial<Record<'get' | 'post' | 'put' | 'delete', OperationObject>>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: Array<{ url: string; description?: string }>;
  security: Array<Record<string, string[]>>;
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    headers: Record<string, HeaderObject>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'basic'; description: string }>;
  };
}
