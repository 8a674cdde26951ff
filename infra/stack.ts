import { CfnOutput, type CfnResource, CustomResource, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  Cors,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseTransferMode,
  ResponseType,
  RestApi,
  TokenAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { join } from 'node:path';
import { importSecret } from './import-secret.js';
import { ARCHITECTURE, BUNDLING, FUNCTIONS, ROOT, RUNTIME, type FunctionName, type FunctionSpec } from './functions.js';
import { migrationsHash } from './migrations-hash.js';
import type { StackSettings } from './settings.js';

/** The whole API: REST API Gateway with a JWT authorizer, one function per route, migrations on deploy, warm-up. */
export class ChatKitStack extends Stack {
  readonly api: RestApi;

  constructor(scope: Construct, id: string, settings: StackSettings, props?: StackProps) {
    super(scope, id, props);

    const secrets = {
      database: importSecret(this, 'DatabaseSecret', settings.secrets.database),
      openai: importSecret(this, 'OpenAISecret', settings.secrets.openai),
      jwt: importSecret(this, 'JwtSecret', settings.secrets.jwt),
    };
    const secretEnv: Record<keyof typeof secrets, string> = { database: 'DATABASE_SECRET_ARN', openai: 'OPENAI_SECRET_ARN', jwt: 'JWT_SECRET_ARN' };

    const fn = (name: FunctionName, uses: Array<keyof typeof secrets>, environment: Record<string, string> = {}, timeout?: Duration) => {
      const spec: FunctionSpec = FUNCTIONS[name];
      const f = new NodejsFunction(this, `${name[0]!.toUpperCase()}${name.slice(1)}Function`, {
        entry: join(ROOT, spec.entry),
        projectRoot: ROOT,
        depsLockFilePath: join(ROOT, 'package-lock.json'),
        runtime: RUNTIME,
        architecture: ARCHITECTURE,
        memorySize: spec.memoryMb,
        timeout: timeout ?? spec.timeout,
        description: spec.description,
        bundling: BUNDLING,
        logGroup: new LogGroup(this, `${name}Logs`, { retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
        environment: {
          NODE_ENV: 'production',
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: `chatkit-${name}`,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          ...Object.fromEntries(uses.map((s) => [secretEnv[s], secrets[s].secretArn])),
          ...environment,
        },
      });
      for (const s of uses) secrets[s].grantRead(f);
      return f;
    };

    const routeEnv = { CORS_ORIGINS: settings.corsOrigins.join(',') };
    // One timeout for the chat route and its function; the function also knows the route's, so it
    // can stop the model and save the partial answer before either cuts the turn off.
    const chat = fn(
      'chat',
      ['database', 'openai'],
      { ...routeEnv, OPENAI_MODEL: settings.openaiModel, INTEGRATION_TIMEOUT_MS: String(settings.chatTimeout.toMilliseconds()) },
      settings.chatTimeout,
    );
    const threadsList = fn('threadsList', ['database'], routeEnv);
    const threadsDelete = fn('threadsDelete', ['database'], routeEnv);
    const messages = fn('messages', ['database'], routeEnv);
    const authorizerFn = fn('authorizer', ['jwt']);
    const migrate = fn('migrate', ['database']);
    const warmup = fn('warmup', ['database']);

    // ---- API ----
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const api = new RestApi(this, 'Api', {
      restApiName: `chatkit-${settings.stageName}`,
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: true,
      deployOptions: {
        stageName: settings.stageName,
        throttlingRateLimit: settings.throttleRate,
        throttlingBurstLimit: settings.throttleBurst,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
      },
      defaultCorsPreflightOptions: {
        allowOrigins: settings.corsOrigins.includes('*') ? Cors.ALL_ORIGINS : settings.corsOrigins,
        allowHeaders: ['Authorization', 'Content-Type'],
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        maxAge: Duration.minutes(10),
      },
    });
    this.api = api;

    const authorizer = new TokenAuthorizer(this, 'JwtAuthorizer', {
      handler: authorizerFn,
      identitySource: 'method.request.header.Authorization',
      resultsCacheTtl: Duration.seconds(settings.authorizerCacheTtlSeconds),
    });
    const secured = { authorizer, authorizationType: AuthorizationType.CUSTOM };

    api.root
      .addResource('chatkit')
      .addMethod('POST', new LambdaIntegration(chat, { responseTransferMode: ResponseTransferMode.STREAM, timeout: settings.chatTimeout }), secured);
    const threads = api.root.addResource('threads');
    threads.addMethod('GET', new LambdaIntegration(threadsList), secured);
    const thread = threads.addResource('{id}');
    thread.addMethod('DELETE', new LambdaIntegration(threadsDelete), secured);
    thread.addResource('messages').addMethod('GET', new LambdaIntegration(messages), secured);

    // API Gateway's own refusals speak the API's error shape, with CORS headers browsers need.
    const corsHeaders = { 'Access-Control-Allow-Origin': `'${settings.corsOrigins.includes('*') ? '*' : settings.corsOrigins[0]}'` };
    const errorTemplate = (code: string) => ({ 'application/json': `{"error":{"code":"${code}","message":$context.error.messageString}}` });
    api.addGatewayResponse('Unauthorized', { type: ResponseType.UNAUTHORIZED, statusCode: '401', responseHeaders: corsHeaders, templates: errorTemplate('unauthorized') });
    api.addGatewayResponse('AccessDenied', { type: ResponseType.ACCESS_DENIED, statusCode: '403', responseHeaders: corsHeaders, templates: errorTemplate('forbidden') });
    api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, responseHeaders: corsHeaders, templates: errorTemplate('bad_request') });
    api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, responseHeaders: corsHeaders, templates: errorTemplate('internal_error') });

    // ---- migrations on deploy ----
    const provider = new Provider(this, 'MigrationProvider', {
      onEventHandler: migrate,
      logGroup: new LogGroup(this, 'MigrationProviderLogs', { retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
    });
    const migrations = new CustomResource(this, 'Migrations', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ChatKitMigrations',
      // Runs again when a migration changes or when the stack points at another database.
      properties: { MigrationsHash: migrationsHash(join(ROOT, 'migrations')), Database: secrets.database.secretArn },
    });
    // The routes' new code goes live only after its schema is in place.
    for (const route of [chat, threadsList, threadsDelete, messages]) {
      (route.node.defaultChild as CfnResource).addResourceDependency(migrations.node.defaultChild as CfnResource);
    }

    // ---- warm-up ----
    if (settings.warmup) {
      new Rule(this, 'WarmupSchedule', {
        description: 'Pings Neon so a suspended compute wakes before a user waits (keeps the compute awake: costs compute hours)',
        schedule: Schedule.expression(settings.warmup.expression),
        targets: [new LambdaFunction(warmup, { retryAttempts: 0 })],
      });
    }

    // ---- alarms ----
    const alarm = (id: string, props: Omit<ConstructorParameters<typeof Alarm>[2], 'evaluationPeriods'>) =>
      new Alarm(this, id, { treatMissingData: TreatMissingData.NOT_BREACHING, evaluationPeriods: 1, ...props });
    alarm('Api5xxAlarm', { metric: api.metricServerError({ period: Duration.minutes(5) }), threshold: 5, alarmDescription: 'API answered 5xx' });
    for (const [name, f] of Object.entries({ chat, threadsList, threadsDelete, messages, authorizer: authorizerFn })) {
      alarm(`${name}ErrorsAlarm`, { metric: f.metricErrors({ period: Duration.minutes(5) }), threshold: 1, alarmDescription: `${name} function errors` });
      alarm(`${name}ThrottlesAlarm`, { metric: f.metricThrottles({ period: Duration.minutes(5) }), threshold: 1, alarmDescription: `${name} function throttled` });
    }
    alarm('ChatDurationAlarm', {
      metric: chat.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: settings.chatTimeout.toMilliseconds() * 0.9,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: 'A chat turn came close to the function timeout',
    });

    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'Base URL of the API' });
    this.suppressNagFindings(Object.values(secrets));
  }

  /** Each accepted cdk-nag finding, with the reason it is accepted. */
  private suppressNagFindings(secrets: ISecret[]) {
    NagSuppressions.addStackSuppressions(this, [
      {
        id: 'AwsSolutions-IAM4',
        reason: 'Functions use the AWS managed basic execution role (CloudWatch Logs only); API Gateway its managed push-to-CloudWatch role.',
        appliesTo: [
          'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
          'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
        ],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: "The CDK Provider framework invokes the migrate function's versions and aliases (ARN:*), nothing else.",
        appliesTo: [{ regex: '/^Resource::<MigrateFunction[0-9A-F]+\\.Arn>:\\*$/g' }],
      },
      { id: 'AwsSolutions-L1', reason: 'Node.js 22 is pinned on purpose: the bundles and the local toolchain are verified against it.' },
      { id: 'AwsSolutions-APIG2', reason: 'Every request is validated in the function with zod schemas (the same ones that generate the OpenAPI document), answering 400 with a JSON error.' },
      { id: 'AwsSolutions-APIG3', reason: 'WAF is left to the deployer (cost); stage throttling and the JWT authorizer are on.' },
      { id: 'AwsSolutions-APIG4', reason: 'All routes use the JWT Lambda authorizer; only CORS preflight (OPTIONS) is open, as browsers require.' },
      { id: 'AwsSolutions-COG4', reason: 'Authentication is a JWT Lambda authorizer (any OIDC provider), not Cognito.' },
      { id: 'AwsSolutions-SMG4', reason: `Secrets (${secrets.length}) hold Neon and OpenAI credentials rotated at their source; they are referenced, not created, by this stack.` },
    ]);
  }
}
