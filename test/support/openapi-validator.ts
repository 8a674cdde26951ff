import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../shared/http/openapi.js';

/** Checks real response bodies against the OpenAPI document the API publishes. */
export function openApiValidator() {
  const document = openApiDocument() as any;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: 'openapi.json', components: document.components }, 'openapi.json');
  return (path: string, method: string, status: number, body: unknown): string[] => {
    const response = document.paths?.[path]?.[method.toLowerCase()]?.responses?.[String(status)];
    if (!response) return [`the document has no ${status} response for ${method} ${path}`];
    const schema = JSON.parse(JSON.stringify(response.content['application/json'].schema).replaceAll('"#/components', '"openapi.json#/components'));
    const validate = ajv.compile(schema);
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}
