import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** What a deployment can choose, through CDK context (`-c key=value` or cdk.json). */
export interface StackSettings {
  stageName: string;
  corsOrigins: string[];
  openaiModel: string;
  /** An EventBridge rate or cron expression; undefined turns the warm-up off. */
  warmupRate: string | undefined;
  authorizerCacheTtlSeconds: number;
  chatTimeout: Duration;
  throttleRate: number;
  throttleBurst: number;
  logRetention: RetentionDays;
  databaseSecretName: string;
  openaiSecretName: string;
  jwtSecretName: string;
}

type Context = (key: string) => unknown;

export function settingsFromContext(context: Context): StackSettings {
  const text = (key: string, fallback: string) => {
    const value = context(key);
    return value === undefined || value === null || value === '' ? fallback : String(value);
  };
  const number = (key: string, fallback: number) => {
    const value = Number(text(key, String(fallback)));
    if (!Number.isFinite(value) || value < 0) throw new Error(`context ${key} must be a non-negative number`);
    return value;
  };
  const warmup = text('warmup', 'true');
  const warmupRate = text('warmupRate', 'rate(5 minutes)');
  return {
    stageName: text('stageName', 'prod'),
    corsOrigins: text('corsOrigins', '*').split(',').map((o) => o.trim()).filter(Boolean),
    openaiModel: text('openaiModel', 'gpt-4.1-mini'),
    warmupRate: warmup === 'false' || warmupRate === 'off' ? undefined : warmupRate,
    authorizerCacheTtlSeconds: number('authorizerCacheTtl', 300),
    chatTimeout: Duration.seconds(number('chatTimeoutSeconds', 300)),
    throttleRate: number('throttleRate', 50),
    throttleBurst: number('throttleBurst', 100),
    logRetention: RetentionDays.ONE_MONTH,
    databaseSecretName: text('databaseSecretName', 'chatkit/database'),
    openaiSecretName: text('openaiSecretName', 'chatkit/openai'),
    jwtSecretName: text('jwtSecretName', 'chatkit/jwt'),
  };
}
