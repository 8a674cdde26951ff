import { Duration } from 'aws-cdk-lib';
import { DEFAULT_MODEL, effortRefusal, REASONING_EFFORTS, REASONING_SUMMARIES, type ReasoningEffort, type ReasoningSummary } from '../shared/agent/model-settings.js';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CorsOriginsError, parseCorsOrigins } from '../shared/http/cors.js';
import { ContextReader, fail } from './context.js';
import { scheduleExpression } from './schedule-expression.js';
import { secretReference, type SecretReference } from './secret-reference.js';

/**
 * API Gateway's own logs (access and execution) need the account-wide "CloudWatch log role ARN":
 * `off` writes none; `on` assumes the account already has the role set; `create-role` has this
 * stack create the role and set it for the whole account and region (it outlives the stack).
 */
export const API_GATEWAY_LOGGING = ['off', 'on', 'create-role'] as const;
export type ApiGatewayLogging = (typeof API_GATEWAY_LOGGING)[number];

/** A streamed chat turn may last this long: API Gateway streams for at most 15 minutes. */
export const CHAT_TIMEOUT_SECONDS = { min: 30, max: 900 } as const;

/** A minute to 30 days: the thread stays held for an answer that long. */
export const APPROVAL_EXPIRY_SECONDS = { min: 60, max: 30 * 86_400 } as const;

export interface WarmupSchedule {
  expression: string;
  /** The period of a rate expression; undefined for cron. */
  minutes: number | undefined;
}

/** What a deployment can choose, through CDK context (`-c key=value` or cdk.json). */
export interface StackSettings {
  stageName: string;
  corsOrigins: string[];
  openaiModel: string;
  /** ASSISTANT_REASONING_EFFORT; undefined: the agent's own, else the Agents SDK's default for the model. */
  assistantReasoningEffort: ReasoningEffort | undefined;
  /** ASSISTANT_REASONING_SUMMARY. */
  assistantReasoningSummary: ReasoningSummary;
  /** undefined: no warm-up. */
  warmup: WarmupSchedule | undefined;
  authorizerCacheTtlSeconds: number;
  /** The chat function's timeout and the chat route's integration timeout: one value for both. */
  chatTimeout: Duration;
  /** APPROVAL_EXPIRY_SECONDS: how long a tool call waits for its user's approval, holding its thread. */
  approvalExpiry: Duration;
  throttleRate: number;
  throttleBurst: number;
  logRetention: RetentionDays;
  apiGatewayLogging: ApiGatewayLogging;
  /** Subscribed to the alarm topic when set. */
  alarmEmail: string | undefined;
  secrets: Record<'database' | 'openai' | 'jwt', SecretReference>;
}

const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/; // part of the stack name, which allows no more
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const RETENTION_DAYS = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

export function settingsFromContext(lookup: (key: string) => unknown): StackSettings {
  const context = new ContextReader(lookup);
  // Off by default: it keeps a Neon compute awake around the clock, ~183 CU-hours a month at the
  // 0.25 CU minimum, more than the Free plan's 100. When on, every 4 minutes: under Neon's default
  // 5-minute suspend threshold, not at it.
  const warmupRate = context.text('warmupRate', 'rate(4 minutes)');
  const warmup = context.boolean('warmup', false) && warmupRate !== 'off' ? scheduleExpression('warmupRate', warmupRate) : undefined;
  const retention = context.integer('logRetentionDays', 30, { min: 1, max: 9999 });
  if (!RETENTION_DAYS.includes(retention)) fail('logRetentionDays', String(retention), `one of ${RETENTION_DAYS.join(', ')}`);
  const openaiModel = context.text('openaiModel', DEFAULT_MODEL);
  const assistantReasoningEffort = context.optionalText('assistantReasoningEffort') === undefined ? undefined : context.oneOf('assistantReasoningEffort', 'none', REASONING_EFFORTS);
  const refused = effortRefusal(assistantReasoningEffort, [openaiModel]);
  if (refused) fail('assistantReasoningEffort', String(assistantReasoningEffort), `one of ${refused.takes.join(', ')} (what ${openaiModel} takes)`);
  return {
    stageName: context.matching('stageName', 'prod', STAGE_NAME, 'letters, digits and hyphens (it is part of the stack name)'),
    corsOrigins: corsOrigins(context.text('corsOrigins', '*')),
    openaiModel,
    assistantReasoningEffort,
    assistantReasoningSummary: context.oneOf('assistantReasoningSummary', 'auto', REASONING_SUMMARIES),
    warmup,
    authorizerCacheTtlSeconds: context.integer('authorizerCacheTtl', 300, { min: 0, max: 3600 }),
    chatTimeout: Duration.seconds(context.integer('chatTimeoutSeconds', 300, CHAT_TIMEOUT_SECONDS)),
    approvalExpiry: Duration.seconds(context.integer('approvalExpirySeconds', 86_400, APPROVAL_EXPIRY_SECONDS)),
    throttleRate: context.positiveNumber('throttleRate', 50),
    throttleBurst: context.integer('throttleBurst', 100, { min: 1, max: 1_000_000 }),
    logRetention: retention as RetentionDays,
    apiGatewayLogging: context.oneOf('apiGatewayLogging', 'off', API_GATEWAY_LOGGING),
    alarmEmail: optionalEmail(context.optionalText('alarmEmail')),
    secrets: {
      database: secretReference('databaseSecretName', context.text('databaseSecretName', 'chatkit/database')),
      openai: secretReference('openaiSecretName', context.text('openaiSecretName', 'chatkit/openai')),
      jwt: secretReference('jwtSecretName', context.text('jwtSecretName', 'chatkit/jwt')),
    },
  };
}

/** The same parser the routes read CORS_ORIGINS with (the stack sets it from this value). */
function corsOrigins(value: string): string[] {
  try {
    return parseCorsOrigins(value);
  } catch (error) {
    if (error instanceof CorsOriginsError) fail('corsOrigins', error.value, error.expected);
    throw error;
  }
}

function optionalEmail(value: string | undefined): string | undefined {
  if (value !== undefined && !EMAIL.test(value)) fail('alarmEmail', value, 'an e-mail address');
  return value;
}
