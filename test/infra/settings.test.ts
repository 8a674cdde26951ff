import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsFromContext } from '../../infra/settings.js';

const settings = (context: Record<string, unknown> = {}) => settingsFromContext((key) => context[key]);
const refused = (context: Record<string, unknown>) => () => settings(context);

describe('context settings', () => {
  it('cdk.json states exactly the defaults the code applies', () => {
    const { context } = JSON.parse(readFileSync(join(process.cwd(), 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
    expect(settings(context)).toEqual(settings());
  });

  it('passes the assistant\'s reasoning settings, refusing values the API does not know', () => {
    expect(settings()).toMatchObject({ assistantReasoningEffort: undefined, assistantReasoningSummary: 'auto' });
    expect(settings({ assistantReasoningEffort: 'low', assistantReasoningSummary: 'off' })).toMatchObject({ assistantReasoningEffort: 'low', assistantReasoningSummary: 'off' });
    expect(refused({ assistantReasoningEffort: 'extreme' })).toThrow(/assistantReasoningEffort="extreme"/);
    expect(refused({ assistantReasoningSummary: 'short' })).toThrow(/assistantReasoningSummary="short"/);
    // A value the API knows but the model refuses would fail every turn: synth refuses it.
    expect(refused({ assistantReasoningEffort: 'minimal' })).toThrow('context assistantReasoningEffort="minimal" is not valid: expected one of none, low, medium, high, xhigh (what gpt-5.6-luna takes)');
    expect(settings({ openaiModel: 'gpt-5-mini', assistantReasoningEffort: 'minimal' })).toMatchObject({ assistantReasoningEffort: 'minimal' });
  });

  it('refuses throttling that would block the API or is not a number', () => {
    expect(refused({ throttleRate: '0' })).toThrow(/throttleRate="0".*above 0/);
    expect(refused({ throttleRate: 'fast' })).toThrow(/throttleRate/);
    expect(refused({ throttleBurst: '0' })).toThrow(/throttleBurst/);
    expect(refused({ throttleBurst: '2.5' })).toThrow(/throttleBurst/);
    expect(settings({ throttleRate: '0.5', throttleBurst: '1' })).toMatchObject({ throttleRate: 0.5, throttleBurst: 1 });
  });

  it('refuses a warm-up rate EventBridge would refuse at deploy time', () => {
    for (const warmupRate of ['5 minutes', 'rate(5 minute)', 'rate(1 minutes)', 'rate(0 minutes)', 'rate(5 mins)', 'cron(*/4 * * *)', 'every 4 minutes']) {
      expect(refused({ warmup: 'true', warmupRate }), warmupRate).toThrow(/warmupRate/);
    }
    expect(settings({ warmup: 'true', warmupRate: 'rate(1 minute)' }).warmup).toEqual({ expression: 'rate(1 minute)', minutes: 1 });
    expect(settings({ warmup: 'true', warmupRate: 'rate(2 hours)' }).warmup).toEqual({ expression: 'rate(2 hours)', minutes: 120 });
    expect(settings({ warmup: 'true', warmupRate: 'cron(0/4 8-20 ? * MON-FRI *)' }).warmup).toEqual({ expression: 'cron(0/4 8-20 ? * MON-FRI *)', minutes: undefined });
    expect(settings({ warmup: 'true', warmupRate: 'off' }).warmup).toBeUndefined();
    expect(refused({ warmup: 'yes' })).toThrow(/warmup="yes".*true or false/);
  });

  it('refuses secret names that break partial-ARN grants, and accepts a complete ARN instead', () => {
    expect(refused({ databaseSecretName: 'chatkit/db-prod01' })).toThrow(/databaseSecretName.*complete ARN/);
    expect(refused({ jwtSecretName: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/jwt' })).toThrow(/jwtSecretName.*complete ARN/);
    expect(refused({ openaiSecretName: 'has spaces' })).toThrow(/openaiSecretName/);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/db-prod01-AbC123';
    expect(settings({ databaseSecretName: arn }).secrets.database).toEqual({ completeArn: arn });
    expect(settings({ databaseSecretName: 'chatkit/preview-42/database' }).secrets.database).toEqual({ name: 'chatkit/preview-42/database' });
  });

  it('refuses stage names, origins, e-mail addresses and retention the deploy would refuse or never match', () => {
    expect(refused({ stageName: 'pr_42' })).toThrow(/stageName/);
    expect(refused({ corsOrigins: 'https://app.example.com/' })).toThrow(/corsOrigins/);
    expect(refused({ corsOrigins: '*,https://app.example.com' })).toThrow(/corsOrigins/);
    expect(settings({ corsOrigins: 'https://a.example.com, http://localhost:5173' }).corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(refused({ alarmEmail: 'ops' })).toThrow(/alarmEmail/);
    expect(refused({ logRetentionDays: '10' })).toThrow(/logRetentionDays/);
    expect(refused({ authorizerCacheTtl: '7200' })).toThrow(/authorizerCacheTtl/);
    expect(refused({ apiGatewayLogging: 'yes' })).toThrow(/apiGatewayLogging/);
  });

  it('keeps the chat timeout within what API Gateway streams and Lambda runs (15 minutes)', () => {
    expect(refused({ chatTimeoutSeconds: '901' })).toThrow(/chatTimeoutSeconds.*30 to 900/);
    expect(refused({ chatTimeoutSeconds: '10' })).toThrow(/chatTimeoutSeconds/);
    expect(refused({ chatTimeoutSeconds: '300.5' })).toThrow(/chatTimeoutSeconds/);
    expect(settings({ chatTimeoutSeconds: 900 }).chatTimeout.toSeconds()).toBe(900);
    expect(settings().approvalExpiry.toSeconds()).toBe(86_400);
    expect(settings({ approvalExpirySeconds: '3600' }).approvalExpiry.toSeconds()).toBe(3600);
    expect(refused({ approvalExpirySeconds: '59' })).toThrow(/approvalExpirySeconds/);
    expect(refused({ approvalExpirySeconds: '1 day' })).toThrow(/approvalExpirySeconds/);
  });
});
