import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { cachedUntilFailure } from './cached-until-failure.js';

/**
 * Secrets Manager secrets (JSON objects of string values) whose keys become environment
 * variables, named by the ARN variables the stack sets. Never plain environment values, never
 * in the template.
 */
const SECRET_ARN_VARIABLES = ['DATABASE_SECRET_ARN', 'OPENAI_SECRET_ARN', 'JWT_SECRET_ARN'] as const;

/**
 * Once per cold start, and again on the next call if it failed (the SDK has already retried
 * transient errors by then); a no-op where no secret ARN is configured (tests, dev).
 */
export const loadSecretsIntoEnv: () => Promise<void> = cachedUntilFailure(async () => {
  const arns = SECRET_ARN_VARIABLES.map((name) => process.env[name]).filter((arn): arn is string => Boolean(arn));
  const secrets = await Promise.all(arns.map((arn) => getSecret<Record<string, unknown>>(arn, { transform: 'json' })));
  for (const secret of secrets) {
    for (const [key, value] of Object.entries(secret ?? {})) {
      if (typeof value === 'string') process.env[key] = value;
    }
  }
});
