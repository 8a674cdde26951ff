import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';

interface GatewayError {
  id: string;
  type: ResponseType;
  /** Omitted for the defaults, which keep the status API Gateway chose. */
  status?: string;
  code: string;
  /** A fixed message; otherwise API Gateway's own. */
  message?: string;
}

/** The errors API Gateway answers itself, each with the code the functions would use for it. */
export const GATEWAY_ERRORS: GatewayError[] = [
  { id: 'Unauthorized', type: ResponseType.UNAUTHORIZED, status: '401', code: 'unauthorized' },
  { id: 'AccessDenied', type: ResponseType.ACCESS_DENIED, status: '403', code: 'forbidden' },
  { id: 'WafFiltered', type: ResponseType.WAF_FILTERED, status: '403', code: 'forbidden' },
  // API Gateway's answer for a path or method the API does not have.
  { id: 'MissingAuthenticationToken', type: ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '404', code: 'route_not_found', message: 'No route for this method and path' },
  { id: 'RequestTooLarge', type: ResponseType.REQUEST_TOO_LARGE, status: '413', code: 'payload_too_large' },
  { id: 'UnsupportedMediaType', type: ResponseType.UNSUPPORTED_MEDIA_TYPE, status: '415', code: 'unsupported_media_type' },
  { id: 'Throttled', type: ResponseType.THROTTLED, status: '429', code: 'rate_limited' },
  { id: 'QuotaExceeded', type: ResponseType.QUOTA_EXCEEDED, status: '429', code: 'rate_limited' },
  { id: 'IntegrationTimeout', type: ResponseType.INTEGRATION_TIMEOUT, status: '504', code: 'timeout' },
  { id: 'Default4xx', type: ResponseType.DEFAULT_4XX, code: 'client_error' },
  { id: 'Default5xx', type: ResponseType.DEFAULT_5XX, code: 'internal_error' },
];

/** API Gateway's own refusals speak the API's error shape, with the CORS headers browsers need to read them. */
export function addGatewayResponses(api: RestApi, corsOrigins: string[]): void {
  const responseHeaders = corsHeaders(corsOrigins);
  for (const { id, type, status, code, message } of GATEWAY_ERRORS) {
    const body = `{"error":{"code":"${code}","message":${message ? JSON.stringify(message) : '$context.error.messageString'}}}`;
    api.addGatewayResponse(id, { type, ...(status ? { statusCode: status } : {}), responseHeaders, templates: { 'application/json': body } });
  }
}

/**
 * A gateway response cannot choose among origins (its templates are not VTL), so with several
 * allowed origins it echoes the caller's Origin: otherwise a browser on any origin but the first
 * could not read a 401 and refresh its token. These responses carry an error code and nothing
 * else; the functions' own responses still allow only the configured origins.
 */
export function corsHeaders(corsOrigins: string[]): Record<string, string> {
  if (corsOrigins.includes('*')) return { 'Access-Control-Allow-Origin': "'*'" };
  if (corsOrigins.length === 1) return { 'Access-Control-Allow-Origin': `'${corsOrigins[0]}'` };
  return { 'Access-Control-Allow-Origin': 'method.request.header.Origin', Vary: "'Origin'" };
}
