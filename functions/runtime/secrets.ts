import { cachedUntilFailure } from './cached-until-failure.js';
import { readSecretFromExtension } from './secrets-extension.js';

/**
 * Secrets Manager secrets (JSON objects of string values) whose keys become environment
 * variables, named by the ARN variables the stack sets. Never plain environment values, never
 * in the template.
 */
const SECRET_ARN_VARIABLES = ['DATABASE_SECRET_ARN', 'OPENAI_SECRET_ARN', 'JWT_SECRET_ARN'] as const;

/**
 * Once per cold start, and again on the next call if it failed (a timeout, an error answer);
 * a no-op where no secret ARN is configured (tests, dev).
 */
export const loadSecretsIntoEnv: () => Promise<void> = cachedUntilFailure(async () => {
  const configured = SECRET_ARN_VARIABLES.flatMap((variable) => (process.env[variable] ? [[variable, process.env[variable]] as const] : []));
  const secrets = await Promise.all(configured.map(([variable, arn]) => readSecretFromExtension(variable, arn)));
  for (const secret of secrets) {
    for (const [key, value] of Object.entries(secret)) {
      if (typeof value === 'string') process.env[key] = value;
    }
  }
});
