import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { AuthError, authConfigFromEnv, bearerToken, createTokenVerifier } from '../shared/auth/index.js';
import { createLogger } from '../shared/log.js';
import { cachedUntilFailure } from './runtime/cached-until-failure.js';
import { METRIC } from './runtime/metric-names.js';
import { instrumented } from './runtime/invocation.js';
import { metrics } from './runtime/metrics.js';
import { loadSecretsIntoEnv } from './runtime/secrets.js';

const logger = createLogger('chatkit-authorizer');
const verifier = cachedUntilFailure(() => loadSecretsIntoEnv().then(() => createTokenVerifier(authConfigFromEnv(process.env))));

/**
 * API Gateway TOKEN authorizer. Allows every route of the API and stage, so that API Gateway
 * can reuse the cached decision for the token across routes; handlers get the user id in the
 * request context.
 *
 * A refused token is answered by throwing "Unauthorized", which Lambda counts as an error; the
 * function's Errors metric therefore says nothing about trouble. TokensRefused counts refusals,
 * AuthorizerFailures what is trouble: anything else that went wrong (a secret, the settings).
 */
export const handler = instrumented(async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  try {
    const { userId } = await (await verifier()).verify(bearerToken(event.authorizationToken) ?? '');
    return {
      principalId: userId,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApi(event.methodArn) }] },
      context: { userId },
    };
  } catch (error) {
    if (!(error instanceof AuthError)) {
      metrics.addMetric(METRIC.authorizerFailures, MetricUnit.Count, 1);
      logger.error('authorizer failed', { error });
      throw error;
    }
    metrics.addMetric(METRIC.tokensRefused, MetricUnit.Count, 1);
    logger.info('token refused', { reason: error.code });
    throw new Error('Unauthorized'); // the exact message API Gateway answers 401 for
  }
});

/** arn:aws:execute-api:region:account:api/stage/METHOD/path → arn:…:api/stage/*\/* */
function wholeApi(methodArn: string): string {
  const [api, stage] = methodArn.split('/');
  return `${api}/${stage}/*/*`;
}
