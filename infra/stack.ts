import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import { alarmTopic } from './alarm-topic.js';
import { attachmentsBucket } from './attachments-bucket.js';
import { alarms } from './alarms.js';
import { chatKitApi } from './api.js';
import { dashboard } from './dashboard.js';
import { importSecret } from './import-secret.js';
import { productFunction, type FunctionCode } from './lambda-functions.js';
import { migrationsOnDeploy } from './migrations.js';
import type { StackSettings } from './settings.js';
import { warmupSchedule } from './warmup-schedule.js';

/**
 * One stage: REST API Gateway with a JWT authorizer, one function per route, migrations on deploy,
 * alarms to an SNS topic, a dashboard, and the optional Neon warm-up.
 */
export class ChatKitStack extends Stack {
  readonly api: RestApi;

  /** `code`: each function built by `buildFunctions` (infra/function-build.ts), as the app does before synth. */
  constructor(scope: Construct, id: string, settings: StackSettings, code: FunctionCode, props?: StackProps) {
    super(scope, id, props);

    const secrets = {
      database: importSecret(this, 'DatabaseSecret', settings.secrets.database),
      openai: importSecret(this, 'OpenAISecret', settings.secrets.openai),
      jwt: importSecret(this, 'JwtSecret', settings.secrets.jwt),
    };
    const wiring = { settings, secrets, code };
    const routeEnv = { CORS_ORIGINS: settings.corsOrigins.join(',') };

    // One timeout for the chat route and its function; the function also knows the route's, so it
    // can stop the model and save the partial answer before either cuts the turn off.
    const chat = productFunction(this, 'chat', wiring, {
      reads: ['database', 'openai'],
      environment: {
        ...routeEnv,
        OPENAI_MODEL: settings.openaiModel,
        ...(settings.assistantReasoningEffort ? { ASSISTANT_REASONING_EFFORT: settings.assistantReasoningEffort } : {}),
        ASSISTANT_REASONING_SUMMARY: settings.assistantReasoningSummary,
        INTEGRATION_TIMEOUT_MS: String(settings.chatTimeout.toMilliseconds()),
        // A turn whose function died holds its thread no longer than a turn may run.
        TURN_MAX_SECONDS: String(settings.chatTimeout.toSeconds()),
        APPROVAL_EXPIRY_SECONDS: String(settings.approvalExpiry.toSeconds()),
      },
      timeout: settings.chatTimeout,
    });
    const threadsList = productFunction(this, 'threadsList', wiring, { reads: ['database'], environment: routeEnv });
    const threadsDelete = productFunction(this, 'threadsDelete', wiring, { reads: ['database'], environment: routeEnv });
    const messages = productFunction(this, 'messages', wiring, { reads: ['database'], environment: routeEnv });
    const authorizer = productFunction(this, 'authorizer', wiring, { reads: ['jwt'] });
    const migrate = productFunction(this, 'migrate', wiring, { reads: ['database'] });
    const warmup = productFunction(this, 'warmup', wiring, { reads: ['database'] });

    attachmentsBucket(this, settings, { chat, threadsDelete });
    this.api = chatKitApi(this, settings, { chat, threadsList, threadsDelete, messages, authorizer });
    migrationsOnDeploy(this, settings, { migrate, database: secrets.database, routes: [chat, threadsList, threadsDelete, messages] });
    if (settings.warmup) warmupSchedule(this, warmup, settings.warmup);
    const topic = alarmTopic(this, settings);
    const alarmed = alarms(this, settings, topic, { api: this.api, chat, threadsList, threadsDelete, messages, authorizer });
    dashboard(this, settings, { api: this.api, functions: { chat, threadsList, threadsDelete, messages, authorizer, migrate, warmup }, alarms: alarmed });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API' });
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn, description: 'Subscribe to it to receive the alarms' });
  }
}
