import { Duration } from 'aws-cdk-lib';
import { Architecture, ParamsAndSecretsLayerVersion, ParamsAndSecretsVersions, Runtime } from 'aws-cdk-lib/aws-lambda';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface FunctionSpec {
  entry: string;
  memoryMb: number;
  /** None for chat: its timeout is the `chatTimeoutSeconds` setting, shared with its API route. */
  timeout?: Duration;
  description: string;
}

/** Every Lambda function of the product: its entry file, and what it is sized for. */
export const FUNCTIONS = {
  chat: { entry: 'functions/chat.ts', memoryMb: 1024, description: 'POST /chatkit (response streaming)' },
  threadsList: { entry: 'functions/threads-list.ts', memoryMb: 512, timeout: Duration.seconds(10), description: 'GET /threads' },
  threadsDelete: { entry: 'functions/threads-delete.ts', memoryMb: 512, timeout: Duration.seconds(10), description: 'DELETE /threads/{id}' },
  messages: { entry: 'functions/messages.ts', memoryMb: 512, timeout: Duration.seconds(10), description: 'GET /threads/{id}/messages' },
  authorizer: { entry: 'functions/authorizer.ts', memoryMb: 256, timeout: Duration.seconds(5), description: 'JWT TOKEN authorizer' },
  migrate: { entry: 'functions/migrate.ts', memoryMb: 512, timeout: Duration.minutes(5), description: 'Applies migrations on deploy' },
  warmup: { entry: 'functions/warmup.ts', memoryMb: 256, timeout: Duration.seconds(15), description: 'Keeps the Neon compute warm' },
} satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

export const RUNTIME = Runtime.NODEJS_24_X;
export const ARCHITECTURE = Architecture.ARM_64;

/**
 * The AWS Parameters and Secrets Lambda Extension: functions read their secrets from it over
 * localhost (functions/runtime/secrets.ts) instead of loading the Secrets Manager SDK at init.
 */
export const SECRETS_EXTENSION = ParamsAndSecretsLayerVersion.fromVersion(ParamsAndSecretsVersions.V1_0_103, { cacheEnabled: true });
