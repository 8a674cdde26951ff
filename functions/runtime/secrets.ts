import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

/**
 * Secrets Manager secrets (JSON objects of string values) whose keys become environment
 * variables, named by the ARN variables the stack sets. Never plain environment values, never
 * in the template.
 */
const SECRET_ARN_VARIABLES = ['DATABASE_SECRET_ARN', 'OPENAI_SECRET_ARN', 'JWT_SECRET_ARN'] as const;

let loading: Promise<void> | undefined;

/** Once per cold start; a no-op where no secret ARN is configured (tests, dev). */
export function loadSecretsIntoEnv(): Promise<void> {
  loading ??= (async () => {
    const arns = SECRET_ARN_VARIABLES.map((name) => process.env[name]).filter((arn): arn is string => Boolean(arn));
    const secrets = await Promise.all(arns.map((arn) => getSecret<Record<string, unknown>>(arn, { transform: 'json' })));
    for (const secret of secrets) {
      for (const [key, value] of Object.entries(secret ?? {})) {
        if (typeof value === 'string') process.env[key] = value;
      }
    }
  })();
  return loading;
}
