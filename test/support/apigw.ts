import type { APIGatewayProxyEvent } from 'aws-lambda';

export interface RestEventOptions {
  method: string;
  /** The API Gateway resource, e.g. `/threads/{id}/messages`. */
  resource: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
  /** What the JWT authorizer put in the request context; omit for an unauthenticated request. */
  userId?: string;
}

/** An API Gateway REST API (v1) Lambda proxy event, as the service sends it. */
export function restEvent(options: RestEventOptions): APIGatewayProxyEvent {
  const path = options.resource.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.pathParameters?.[name] ?? ''));
  const headers = { Host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'User-Agent': 'vitest', ...options.headers };
  const requestId = crypto.randomUUID();
  return {
    resource: options.resource,
    path,
    httpMethod: options.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: options.userId === undefined ? null : { userId: options.userId, principalId: options.userId, integrationLatency: 12 },
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      extendedRequestId: 'ext-' + requestId,
      httpMethod: options.method,
      identity: {
        accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
        cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: '203.0.113.7', user: null, userAgent: 'vitest', userArn: null,
      },
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: new Date().toUTCString(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: options.resource,
      stage: 'prod',
    },
  } as APIGatewayProxyEvent;
}
