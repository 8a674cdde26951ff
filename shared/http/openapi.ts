import * as z from 'zod';
import { REST_ROUTES, type RouteSpec } from './routes.js';

// The OpenAPI 3.1 document of the REST routes, made from the very schemas that validate them.
// Only the dev server and the tests import this module (full zod): no function ships it.

type JsonSchema = Record<string, unknown>;
const COMPONENTS = '#/components/schemas/';

export function openApiDocument(serverUrl?: string) {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', uri: (id) => `${COMPONENTS}${id}`, unrepresentable: 'any' });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of REST_ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: { title: 'ChatKit on Lambda + Neon: REST routes', version: '1.0.0' },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, withoutDialect(schema as JsonSchema)])),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  };
}

function operation(route: RouteSpec) {
  return {
    summary: route.summary,
    security: [{ bearerAuth: [] }],
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, { schema, description }]) => [status, { description, content: { 'application/json': { schema: schemaOf(schema) } } }]),
    ),
  };
}

function parameters(object: RouteSpec['params'], where: 'path' | 'query') {
  if (!object) return [];
  return Object.entries(object.shape).map(([name, schema]) => {
    const json = schemaOf(schema as z.core.$ZodType, 'input');
    return {
      name,
      in: where,
      required: where === 'path' || (schema as z.core.$ZodType)._zod.optin !== 'optional',
      ...(typeof json.description === 'string' ? { description: json.description } : {}),
      schema: json,
    };
  });
}

/** A named schema as a reference to its component, any other inline. */
function schemaOf(schema: z.core.$ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: `${COMPONENTS}${id}` };
  return withoutDialect(z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema);
}

/** The document is the dialect and the address: neither is repeated inside a schema. */
function withoutDialect({ $schema: _dialect, $id: _address, ...schema }: JsonSchema): JsonSchema {
  return schema;
}
