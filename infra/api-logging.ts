import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat, LogGroupLogDestination, MethodLoggingLevel, type StageOptions } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StackSettings } from './settings.js';

/**
 * API Gateway's access and execution logs, when the setting turns them on. Both need the
 * account-wide CloudWatch role; only `create-role` has this stack create it and set it on the
 * account (an AWS::ApiGateway::Account, which every other API in the account and region shares).
 */
export function apiLogging(scope: Construct, settings: StackSettings): { cloudWatchRole: boolean; stage: StageOptions } {
  const cloudWatchRole = settings.apiGatewayLogging === 'create-role';
  if (settings.apiGatewayLogging === 'off') return { cloudWatchRole, stage: {} };
  const accessLogs = new LogGroup(scope, 'ApiAccessLogs', { retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY });
  return {
    cloudWatchRole,
    stage: {
      accessLogDestination: new LogGroupLogDestination(accessLogs),
      accessLogFormat: ACCESS_LOG_FORMAT,
      loggingLevel: MethodLoggingLevel.ERROR,
    },
  };
}

/** One JSON line per request; `requestId` is the same id the functions log and answer as X-Request-Id. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: AccessLogField.contextRequestId(),
    requestTime: AccessLogField.contextRequestTime(),
    httpMethod: AccessLogField.contextHttpMethod(),
    resourcePath: AccessLogField.contextResourcePath(),
    status: AccessLogField.contextStatus(),
    responseLength: AccessLogField.contextResponseLength(),
    responseLatency: AccessLogField.contextResponseLatency(),
    integrationLatency: AccessLogField.contextIntegrationLatency(),
    userId: AccessLogField.contextAuthorizerPrincipalId(),
    authorizerLatency: AccessLogField.contextAuthorizerLatency(),
    errorType: AccessLogField.contextErrorResponseType(),
    errorMessage: AccessLogField.contextErrorMessage(),
    ip: AccessLogField.contextIdentitySourceIp(),
    userAgent: AccessLogField.contextIdentityUserAgent(),
    xrayTraceId: AccessLogField.contextXrayTraceId(),
  }),
);
