import { Duration } from 'aws-cdk-lib';
import {
  AuthorizationType,
  Cors,
  EndpointType,
  LambdaIntegration,
  ResponseTransferMode,
  RestApi,
  TokenAuthorizer,
  type Method,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { API_ALLOW_HEADERS, API_ALLOW_METHODS, PREFLIGHT_MAX_AGE_SECONDS } from '../shared/http/cors.js';
import { apiLogging } from './api-logging.js';
import { addGatewayResponses } from './gateway-responses.js';
import { acceptFinding } from './nag.js';
import type { StackSettings } from './settings.js';

/** `Authorization: Bearer <JWS compact serialization>`, the scheme in any case (RFC 6750). */
export const BEARER_JWT = '^[Bb][Ee][Aa][Rr][Ee][Rr] +[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+ *$';

export interface ApiHandlers {
  chat: IFunction;
  threadsList: IFunction;
  threadsDelete: IFunction;
  messages: IFunction;
  authorizer: IFunction;
}

/** The REST API: one route per function, the JWT authorizer on every route, streaming for chat. */
export function chatKitApi(scope: Construct, settings: StackSettings, handlers: ApiHandlers): RestApi {
  const logging = apiLogging(scope, settings);
  const api = new RestApi(scope, 'Api', {
    restApiName: `chatkit-${settings.stageName}`,
    endpointConfiguration: { types: [EndpointType.REGIONAL] },
    cloudWatchRole: logging.cloudWatchRole,
    deployOptions: {
      stageName: settings.stageName,
      throttlingRateLimit: settings.throttleRate,
      throttlingBurstLimit: settings.throttleBurst,
      ...logging.stage,
      metricsEnabled: true,
      tracingEnabled: true,
    },
    defaultCorsPreflightOptions: {
      allowOrigins: settings.corsOrigins.includes('*') ? Cors.ALL_ORIGINS : settings.corsOrigins,
      allowHeaders: [...API_ALLOW_HEADERS],
      allowMethods: [...API_ALLOW_METHODS],
      maxAge: Duration.seconds(PREFLIGHT_MAX_AGE_SECONDS),
    },
  });

  const authorizer = new TokenAuthorizer(scope, 'JwtAuthorizer', {
    handler: handlers.authorizer,
    identitySource: 'method.request.header.Authorization',
    // API Gateway answers 401 itself, without invoking the authorizer, when the header is not a bearer JWT.
    validationRegex: BEARER_JWT,
    resultsCacheTtl: Duration.seconds(settings.authorizerCacheTtlSeconds),
  });
  const secured = { authorizer, authorizationType: AuthorizationType.CUSTOM };

  const chatIntegration = new LambdaIntegration(handlers.chat, { responseTransferMode: ResponseTransferMode.STREAM, timeout: settings.chatTimeout });
  const threads = api.root.addResource('threads');
  const thread = threads.addResource('{id}');
  const routes = [
    api.root.addResource('chatkit').addMethod('POST', chatIntegration, secured),
    threads.addMethod('GET', new LambdaIntegration(handlers.threadsList), secured),
    thread.addMethod('DELETE', new LambdaIntegration(handlers.threadsDelete), secured),
    thread.addResource('messages').addMethod('GET', new LambdaIntegration(handlers.messages), secured),
  ];

  addGatewayResponses(api, settings.corsOrigins);
  acceptApiFindings(api, routes, settings);
  return api;
}

function acceptApiFindings(api: RestApi, routes: Method[], settings: StackSettings) {
  acceptFinding(api, 'APIG2', 'Every request is validated in the function with zod schemas (the same ones that generate the OpenAPI document), answering 400 with a JSON error.');
  acceptFinding(api.deploymentStage, 'APIG3', 'WAF is left to the deployer (it costs per web ACL and request); stage throttling and the JWT authorizer are on.');
  for (const route of routes) acceptFinding(route, 'COG4', 'Authentication is a JWT Lambda authorizer (any OIDC provider), not Cognito.');
  if (settings.apiGatewayLogging === 'off') {
    const reason =
      "API Gateway's logs need the account-wide CloudWatch role, so they are opt-in (apiGatewayLogging=on or create-role). " +
      'Meanwhile every function logs each request with the API request id, and X-Ray traces every request.';
    acceptFinding(api.deploymentStage, 'APIG1', reason);
    acceptFinding(api.deploymentStage, 'APIG6', reason);
  }
  if (settings.apiGatewayLogging === 'create-role') {
    acceptFinding(api.node.findChild('CloudWatchRole'), 'IAM4', "API Gateway's managed policy for writing its logs to CloudWatch, the role's only purpose.", [
      'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    ]);
  }
}
