import { OpenAPIHono } from '@hono/zod-openapi';
import { deleteThreadRoute, listMessagesRoute, listThreadsRoute } from './routes.js';

/** The OpenAPI 3.1 document of the REST routes, from the same schemas that validate requests. */
export function openApiDocument(serverUrl?: string) {
  const registry = new OpenAPIHono();
  registry.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const route of [listThreadsRoute, deleteThreadRoute, listMessagesRoute]) registry.openAPIRegistry.registerPath(route);
  return registry.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'ChatKit on Lambda + Neon: REST routes', version: '1.0.0' },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
  });
}
