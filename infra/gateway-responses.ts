import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';

/** API Gateway's own refusals speak the API's error shape, with CORS headers browsers need. */
export function addGatewayResponses(api: RestApi, corsOrigins: string[]): void {
  const corsHeaders = { 'Access-Control-Allow-Origin': `'${corsOrigins.includes('*') ? '*' : corsOrigins[0]}'` };
  const errorTemplate = (code: string) => ({ 'application/json': `{"error":{"code":"${code}","message":$context.error.messageString}}` });
  api.addGatewayResponse('Unauthorized', { type: ResponseType.UNAUTHORIZED, statusCode: '401', responseHeaders: corsHeaders, templates: errorTemplate('unauthorized') });
  api.addGatewayResponse('AccessDenied', { type: ResponseType.ACCESS_DENIED, statusCode: '403', responseHeaders: corsHeaders, templates: errorTemplate('forbidden') });
  api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, responseHeaders: corsHeaders, templates: errorTemplate('bad_request') });
  api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, responseHeaders: corsHeaders, templates: errorTemplate('internal_error') });
}
