import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { metricsNamespace } from '../functions/runtime/metric-names.js';
import { HANDLER } from './function-build.js';
import { ARCHITECTURE, FUNCTIONS, RUNTIME, SECRETS_EXTENSION, type FunctionName, type FunctionSpec } from './functions.js';
import { acceptFinding, BASIC_EXECUTION_ROLE } from './nag.js';
import type { StackSettings } from './settings.js';

export type SecretName = 'database' | 'openai' | 'jwt';

/** Where each function finds the ARN of a secret it reads (functions/runtime/secrets.ts). */
const SECRET_ARN_VARIABLES: Record<SecretName, string> = { database: 'DATABASE_SECRET_ARN', openai: 'OPENAI_SECRET_ARN', jwt: 'JWT_SECRET_ARN' };

/** Each function's built code: the directory `buildFunctions` wrote it to (infra/function-build.ts). */
export type FunctionCode = Record<FunctionName, string>;

export interface FunctionOptions {
  /** The secrets it may read: each is granted and passed by ARN, never by value. */
  reads: SecretName[];
  environment?: Record<string, string>;
  timeout?: Duration;
}

/** One of the product's functions, set up the same way as every other: its built code, logs, secrets. */
export function productFunction(
  scope: Construct,
  name: FunctionName,
  { settings, secrets, code }: { settings: StackSettings; secrets: Record<SecretName, ISecret>; code: FunctionCode },
  { reads, environment = {}, timeout }: FunctionOptions,
): LambdaFunction {
  const spec: FunctionSpec = FUNCTIONS[name];
  const fn = new LambdaFunction(scope, `${name[0]!.toUpperCase()}${name.slice(1)}Function`, {
    code: Code.fromAsset(code[name]),
    handler: HANDLER,
    runtime: RUNTIME,
    architecture: ARCHITECTURE,
    memorySize: spec.memoryMb,
    timeout: timeout ?? spec.timeout,
    description: spec.description,
    tracing: Tracing.ACTIVE,
    paramsAndSecrets: SECRETS_EXTENSION,
    logGroup: new LogGroup(scope, `${name}Logs`, { retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
    environment: {
      NODE_ENV: 'production',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: `chatkit-${name}`,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(settings.stageName),
      ...Object.fromEntries(reads.map((secret) => [SECRET_ARN_VARIABLES[secret], secrets[secret].secretArn])),
      ...environment,
    },
  });
  for (const secret of reads) secrets[secret].grantRead(fn);
  acceptFinding(fn.role!, 'IAM4', 'The AWS managed basic execution role: writing its own CloudWatch Logs, nothing else.', [BASIC_EXECUTION_ROLE]);
  acceptFinding(fn.role!.node.findChild('DefaultPolicy'), 'IAM5', 'X-Ray active tracing: xray:PutTraceSegments and PutTelemetryRecords take no resource but *.', ['Resource::*']);
  return fn;
}
