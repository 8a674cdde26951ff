import { App, Aspects, CfnResource } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { BEARER_JWT } from '../../infra/api.js';
import { buildFunctions } from '../../infra/function-build.js';
import { migrationsHash } from '../../infra/migrations-hash.js';
import { bearerToken } from '../../shared/auth/index.js';
import { settingsFromContext } from '../../infra/settings.js';
import type { FunctionCode } from '../../infra/lambda-functions.js';
import { ChatKitStack } from '../../infra/stack.js';

// The functions built once, as infra/app.ts builds them before synth.
const buildDir = mkdtempSync(join(tmpdir(), 'stack-functions-'));
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));
const code = Object.fromEntries(Object.entries(await buildFunctions(buildDir)).map(([name, built]) => [name, built.dir])) as FunctionCode;

function synth(context: Record<string, string> = {}) {
  const app = new App({ context });
  const stack = new ChatKitStack(app, 'Test', settingsFromContext((k) => app.node.tryGetContext(k)), code, { env: { account: '123456789012', region: 'eu-west-1' } });
  const suppressed: Array<{ resource: CfnResource; ruleId: string }> = [];
  const recorder = { onSuppressed: (d: { resource: CfnResource; ruleId: string }) => void suppressed.push(d) };
  const ignore = () => {};
  Aspects.of(app).add(
    new AwsSolutionsChecks({
      additionalLoggers: [{ onCompliance: ignore, onNonCompliance: ignore, onError: ignore, onSuppressedError: ignore, onNotApplicable: ignore, ...recorder }],
    }),
  );
  const template = Template.fromStack(stack);
  return { stack, template, suppressed, json: JSON.stringify(template.toJSON()) };
}

const { stack, template, json, suppressed: defaultSuppressed } = synth();
const resources = (type: string) => Object.entries(template.findResources(type));
const functionIdFor = (entryName: string) => {
  const [id] = resources('AWS::Lambda::Function').find(([, r]) => r.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === `chatkit-${entryName}`)!;
  return id;
};
const methods = resources('AWS::ApiGateway::Method');
const route = (httpMethod: string, pathPart: string) =>
  methods.filter(([, m]) => m.Properties.HttpMethod === httpMethod).find(([, m]) => JSON.stringify(m.Properties.ResourceId).includes(pathPart));

describe('the API', () => {
  it('maps each route to its function and method', () => {
    const expected: Array<[string, string, string]> = [
      ['POST', 'Apichatkit', 'chat'],
      ['GET', 'Apithreads', 'threadsList'],
      ['DELETE', 'Apithreadsid', 'threadsDelete'],
      ['GET', 'Apithreadsidmessages', 'messages'],
    ];
    for (const [method, resource, fn] of expected) {
      const found = methods.find(([, m]) => m.Properties.HttpMethod === method && JSON.stringify(m.Properties.ResourceId).match(new RegExp(`"${resource}[0-9A-F]{8}"`)));
      expect(found, `${method} ${resource}`).toBeDefined();
      expect(JSON.stringify(found![1].Properties.Integration.Uri)).toContain(functionIdFor(fn));
    }
  });

  it('streams the chat integration, and only that one', () => {
    const streaming = methods.filter(([, m]) => m.Properties.Integration?.ResponseTransferMode === 'STREAM');
    expect(streaming).toHaveLength(1);
    expect(streaming[0]![1].Properties.HttpMethod).toBe('POST');
    expect(JSON.stringify(streaming[0]![1].Properties.Integration.Uri)).toContain('response-streaming-invocations');
    expect(streaming[0]![1].Properties.Integration.TimeoutInMillis).toBe(300_000);
    expect(route('POST', 'chatkit')).toBeDefined();
  });

  it('drives the chat route\'s and the chat function\'s timeouts from one setting, and alarms near it', () => {
    for (const seconds of [300, 600]) {
      const { template: t } = seconds === 300 ? { template } : synth({ chatTimeoutSeconds: String(seconds) });
      const chatMethod = Object.values(t.findResources('AWS::ApiGateway::Method')).find((m) => m.Properties.Integration?.ResponseTransferMode === 'STREAM')!;
      const chatFunction = Object.values(t.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'chatkit-chat')!;
      expect(chatMethod.Properties.Integration.TimeoutInMillis).toBe(seconds * 1000);
      expect(chatFunction.Properties.Timeout).toBe(seconds);
      expect(chatFunction.Properties.Environment.Variables.INTEGRATION_TIMEOUT_MS).toBe(String(seconds * 1000));
      const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      expect(alarms.some((a) => a.MetricName === 'Duration' && a.Threshold === seconds * 900)).toBe(true);
    }
  });

  it('puts the JWT authorizer on every method but CORS preflight, with a cached result', () => {
    for (const [, m] of methods) {
      if (m.Properties.HttpMethod === 'OPTIONS') expect(m.Properties.AuthorizationType).toBe('NONE');
      else expect(m.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: expect.anything() });
    }
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: BEARER_JWT,
      AuthorizerResultTtlInSeconds: 300,
    });
    expect(synth({ authorizerCacheTtl: '60' }).template.findResources('AWS::ApiGateway::Authorizer')).toMatchObject({
      [Object.keys(template.findResources('AWS::ApiGateway::Authorizer'))[0]!]: { Properties: { AuthorizerResultTtlInSeconds: 60 } },
    });
  });

  it('invokes the authorizer only for a bearer JWT (API Gateway answers 401 for any other header)', () => {
    const gateway = new RegExp(BEARER_JWT); // API Gateway's (Java) regex; this subset means the same in JS
    const token = jwt.sign({ sub: 'u' }, 'k', { algorithm: 'HS256', expiresIn: '5m' });
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER  ${token}`]) {
      expect(gateway.test(header), header).toBe(true);
      expect(bearerToken(header)).toBe(token);
    }
    for (const header of ['', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Token ${token}`, 'Bearer abc', 'Bearer a.b', `Bearer ${token} extra`, `${token}`]) {
      expect(gateway.test(header), header).toBe(false);
    }
  });

  it("answers API Gateway's own errors in the API's shape, with the right status and code", () => {
    const responses = Object.fromEntries(resources('AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties.ResponseType, r.Properties]));
    const answer = (type: string) => ({ status: responses[type]?.StatusCode, body: responses[type]?.ResponseTemplates['application/json'] });
    expect(answer('THROTTLED')).toEqual({ status: '429', body: '{"error":{"code":"rate_limited","message":$context.error.messageString}}' });
    expect(answer('QUOTA_EXCEEDED')).toMatchObject({ status: '429', body: expect.stringContaining('"rate_limited"') });
    expect(answer('ACCESS_DENIED')).toMatchObject({ status: '403', body: expect.stringContaining('"forbidden"') });
    expect(answer('WAF_FILTERED')).toMatchObject({ status: '403', body: expect.stringContaining('"forbidden"') });
    expect(answer('UNAUTHORIZED')).toMatchObject({ status: '401', body: expect.stringContaining('"unauthorized"') });
    expect(answer('MISSING_AUTHENTICATION_TOKEN')).toMatchObject({ status: '404', body: expect.stringContaining('"route_not_found"') });
    expect(answer('INTEGRATION_TIMEOUT')).toMatchObject({ status: '504', body: expect.stringContaining('"timeout"') });
    expect(answer('DEFAULT_4XX').body).not.toContain('bad_request');
    for (const [type, r] of Object.entries(responses as Record<string, { ResponseTemplates: Record<string, string> }>)) expect(() => JSON.parse(r.ResponseTemplates['application/json']!.replace('$context.error.messageString', '"m"')), type).not.toThrow();
  });

  it('lets every allowed origin read those errors (a 401 must reach the page to refresh its token)', () => {
    const allowOrigin = (t: Template) =>
      Object.values(t.findResources('AWS::ApiGateway::GatewayResponse')).map((r) => [r.Properties.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin'], r.Properties.ResponseParameters['gatewayresponse.header.Vary']]);
    for (const value of allowOrigin(template)) expect(value).toEqual(["'*'", undefined]);
    for (const value of allowOrigin(synth({ corsOrigins: 'https://app.example.com' }).template)) expect(value).toEqual(["'https://app.example.com'", undefined]);
    const several = allowOrigin(synth({ corsOrigins: 'https://app.example.com,https://admin.example.com' }).template);
    expect(several.length).toBeGreaterThan(5);
    for (const value of several) expect(value).toEqual(['method.request.header.Origin', "'Origin'"]);
  });

  it('throttles the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })]),
    });
    template.hasOutput('*', { Value: Match.anyValue() });
  });

  it("leaves the account-wide API Gateway CloudWatch role alone unless asked (logs are opt-in)", () => {
    const stage = (t: Template) => Object.values(t.findResources('AWS::ApiGateway::Stage'))[0]!.Properties;
    const apiGatewayRoles = (t: Template) =>
      Object.values(t.findResources('AWS::IAM::Role')).filter((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'));

    expect(template.findResources('AWS::ApiGateway::Account')).toEqual({});
    expect(apiGatewayRoles(template)).toEqual([]);
    expect(stage(template).AccessLogSetting).toBeUndefined();

    const on = synth({ apiGatewayLogging: 'on' }).template;
    expect(on.findResources('AWS::ApiGateway::Account')).toEqual({});
    expect(apiGatewayRoles(on)).toEqual([]);
    expect(stage(on)).toMatchObject({
      AccessLogSetting: { DestinationArn: expect.anything(), Format: expect.stringContaining('"requestId":"$context.requestId"') },
      MethodSettings: expect.arrayContaining([expect.objectContaining({ LoggingLevel: 'ERROR' })]),
    });

    const createRole = synth({ apiGatewayLogging: 'create-role' }).template;
    expect(Object.keys(createRole.findResources('AWS::ApiGateway::Account'))).toHaveLength(1);
    expect(apiGatewayRoles(createRole)).toHaveLength(1);
    expect(stage(createRole).AccessLogSetting).toBeDefined();
  });
});

describe('functions and secrets', () => {
  it('runs every function on Node 24, arm64, from its built code, traced by X-Ray, with its metrics in the stage namespace', () => {
    const fns = resources('AWS::Lambda::Function').filter(([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
    expect(fns).toHaveLength(7);
    for (const [, f] of fns) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
      expect(f.Properties.Code).toMatchObject({ S3Bucket: expect.anything(), S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
      expect(f.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('ChatKit/prod');
    }
  });

  it('gives the chat function its model, reasoning and approval settings: the defaults, or those chosen', () => {
    const chatEnv = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'chatkit-chat')!.Properties.Environment.Variables;
    expect(chatEnv(template)).toMatchObject({ OPENAI_MODEL: 'gpt-5.6-luna', ASSISTANT_REASONING_SUMMARY: 'auto', APPROVAL_EXPIRY_SECONDS: '86400' });
    expect(chatEnv(template)).not.toHaveProperty('ASSISTANT_REASONING_EFFORT');
    const chosen = chatEnv(synth({ openaiModel: 'o4-mini', assistantReasoningEffort: 'low', assistantReasoningSummary: 'detailed', approvalExpirySeconds: '3600' }).template);
    expect(chosen).toMatchObject({ OPENAI_MODEL: 'o4-mini', ASSISTANT_REASONING_EFFORT: 'low', ASSISTANT_REASONING_SUMMARY: 'detailed', APPROVAL_EXPIRY_SECONDS: '3600' });
  });

  it('passes secrets by ARN only, and grants each function only its own secrets', () => {
    const env = (name: string) => template.findResources('AWS::Lambda::Function')[functionIdFor(name)]!.Properties.Environment.Variables;
    expect(Object.keys(env('chat'))).toEqual(expect.arrayContaining(['DATABASE_SECRET_ARN', 'OPENAI_SECRET_ARN']));
    expect(env('chat')).not.toHaveProperty('JWT_SECRET_ARN');
    expect(env('authorizer')).toHaveProperty('JWT_SECRET_ARN');
    expect(env('authorizer')).not.toHaveProperty('DATABASE_SECRET_ARN');
    for (const name of ['chat', 'threadsList', 'authorizer']) {
      expect(Object.keys(env(name)).filter((k) => /DATABASE_URL|OPENAI_API_KEY|JWT_SECRET$|JWT_PUBLIC_KEY/.test(k))).toEqual([]);
    }
    expect(json).not.toMatch(/postgres(ql)?:\/\//);
    expect(json).not.toMatch(/sk-[A-Za-z0-9]/);
  });

  it('gives every function the Parameters and Secrets extension, caching, on the port the functions read', () => {
    const fns = resources('AWS::Lambda::Function').filter(([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
    expect(fns).toHaveLength(7);
    for (const [id, f] of fns) {
      expect(f.Properties.Layers, id).toEqual([expect.stringMatching(/^arn:aws:lambda:eu-west-1:\d{12}:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$/)]);
      expect(f.Properties.Environment.Variables, id).toMatchObject({
        PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'true',
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773',
        PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: expect.any(String),
        PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: expect.any(String),
        PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS: expect.any(String),
      });
    }
  });

  it('grants a secret given by complete ARN exactly, without the partial-ARN wildcard', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/db-prod01-AbC123';
    const statements = Object.values(synth({ databaseSecretName: arn }).template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>)
      .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'));
    const resources = statements.map((s) => JSON.stringify(s.Resource));
    expect(resources).toContain(JSON.stringify(arn));
    expect(resources.join()).not.toContain('chatkit/db-prod01-AbC123-??????');
  });

  it('has no IAM statement with wildcard actions', () => {
    for (const [, policy] of resources('AWS::IAM::Policy')) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of [statement.Action].flat()) expect(String(action)).not.toMatch(/(^\*$|:\*$)/);
      }
    }
  });
});

describe('migrations on deploy', () => {
  it('runs the migrate function through a custom resource keyed by the migrations hash', () => {
    const [, resource] = resources('Custom::ChatKitMigrations')[0]!;
    expect(resource.Properties.MigrationsHash).toBe(migrationsHash(join(process.cwd(), 'migrations')));
    const [, provider] = resources('AWS::Lambda::Function').find(([id]) => id.startsWith('MigrationProviderframeworkonEvent'))!;
    expect(JSON.stringify(provider.Properties.Environment)).toContain(functionIdFor('migrate'));
  });

  it('runs again on another database: the target is one of its properties', () => {
    const target = (context: Record<string, string>) =>
      JSON.stringify(Object.values(synth(context).template.findResources('Custom::ChatKitMigrations'))[0]!.Properties.Database);
    expect(target({})).toContain('chatkit/database');
    expect(target({ databaseSecretName: 'chatkit/preview-42/database' })).toContain('chatkit/preview-42/database');
  });

  it('puts every route function after the migrations, so new code never meets an old schema', () => {
    const [migrationsId] = resources('Custom::ChatKitMigrations')[0]!;
    for (const name of ['chat', 'threadsList', 'threadsDelete', 'messages']) {
      const fn = template.findResources('AWS::Lambda::Function')[functionIdFor(name)]!;
      expect(fn.DependsOn, name).toContain(migrationsId);
    }
  });

  it('hash changes when a migration changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    try {
      cpSync(join(process.cwd(), 'migrations'), dir, { recursive: true });
      const before = migrationsHash(dir);
      expect(migrationsHash(dir)).toBe(before);
      writeFileSync(join(dir, '0002_next.ts'), 'export async function up() {}');
      expect(migrationsHash(dir)).not.toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operations', () => {
  it('has no warm-up unless asked (it keeps Neon awake: more than the Free plan allows), and then pings under the suspend threshold', () => {
    expect(template.findResources('AWS::Events::Rule')).toEqual({});
    const on = synth({ warmup: 'true' });
    on.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(4 minutes)' });
    expect(Annotations.fromStack(on.stack).findWarning('*', Match.stringLikeRegexp('warmupRate'))).toEqual([]);
    synth({ warmup: 'true', warmupRate: 'rate(2 minutes)' }).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    const atThreshold = synth({ warmup: 'true', warmupRate: 'rate(5 minutes)' });
    expect(Annotations.fromStack(atThreshold.stack).findWarning('*', Match.stringLikeRegexp('not under Neon.s default 5-minute suspend threshold'))).toHaveLength(1);
  });

  it('alarms on API 5xx, route function errors, throttles, and durations near a timeout', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const of = (fn: string) => (a: (typeof alarms)[number]) => JSON.stringify(a.Dimensions ?? []).includes(functionIdFor(fn));
    expect(alarms.some((a) => a.MetricName === '5XXError')).toBe(true);
    for (const fn of ['chat', 'threadsList', 'threadsDelete', 'messages']) expect(alarms.filter(of(fn)).map((a) => a.MetricName)).toContain('Errors');
    for (const fn of ['chat', 'threadsList', 'threadsDelete', 'messages', 'authorizer']) expect(alarms.filter(of(fn)).map((a) => a.MetricName)).toContain('Throttles');
    expect(alarms.some((a) => a.MetricName === 'Duration' && a.Threshold === 270_000)).toBe(true);
  });

  it('sends every alarm, and its recovery, to one SNS topic (TLS only), with an optional e-mail subscription', () => {
    const [topicId] = resources('AWS::SNS::Topic')[0]!;
    const alarms = resources('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(10);
    for (const [id, a] of alarms) {
      expect(a.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions, id).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(template.findResources('AWS::SNS::Subscription')).toEqual({});
    synth({ alarmEmail: 'ops@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(JSON.stringify(template.findOutputs('AlarmTopicArn'))).toContain(topicId);
  });

  it('keeps attachments in a private, encrypted, TLS-only bucket the browser reaches by presigned URL from the allowed origins', () => {
    const [[bucketId, bucket]] = resources('AWS::S3::Bucket') as [[string, any]];
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      CorsConfiguration: { CorsRules: [{ AllowedMethods: ['PUT', 'POST', 'GET'], AllowedOrigins: ['*'] }] },
    });
    // Uploads never sent in a message expire; nothing else does.
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ Prefix: 'pending/', ExpirationInDays: 1, Status: 'Enabled' })]),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const restricted = synth({ corsOrigins: 'https://app.example.com,https://admin.example.com' }).template;
    restricted.hasResourceProperties('AWS::S3::Bucket', { CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: ['https://app.example.com', 'https://admin.example.com'] })] } });

    // The chat function signs, checks, reads and deletes objects under its two prefixes; the REST delete only deletes.
    const env = (fn: string) => template.findResources('AWS::Lambda::Function')[functionIdFor(fn)]!.Properties.Environment.Variables;
    expect(env('chat').ATTACHMENTS_BUCKET).toEqual({ Ref: bucketId });
    expect(env('threadsDelete').ATTACHMENTS_BUCKET).toEqual({ Ref: bucketId });
    expect(env('threadsList').ATTACHMENTS_BUCKET).toBeUndefined();
    const s3Statements = (fn: string) =>
      resources('AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(functionIdFor(fn).replace(/Function[0-9A-F]{8}$/, 'FunctionServiceRole')))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
        .filter((statement: { Action: string | string[] }) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
    // Listing, on the bucket alone: S3 then answers a missing key with 404, and a 403 is a fault (functions/runtime/s3-attachments.ts).
    expect(s3Statements('chat')).toEqual([
      expect.objectContaining({ Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'] }),
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } },
    ]);
    expect(s3Statements('threadsDelete')).toEqual([expect.objectContaining({ Action: 's3:DeleteObject' })]);
    expect(JSON.stringify(s3Statements('chat')[0].Resource)).toContain('/pending/*');
    expect(JSON.stringify(s3Statements('chat')[0].Resource)).toContain('/attached/*');
  });

  it('tells the chat function how long a turn may hold its thread: the chat timeout', () => {
    const chat = template.findResources('AWS::Lambda::Function')[functionIdFor('chat')]!;
    expect(chat.Properties.Environment.Variables.TURN_MAX_SECONDS).toBe(String(chat.Properties.Timeout));
  });

  it('has a dashboard with each turn, the model, the database, the API and the functions', () => {
    const [, board] = resources('AWS::CloudWatch::Dashboard')[0]!;
    // The body is a JSON document joined around tokens (function names, the region).
    const parts = board.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as { widgets: Array<{ type: string; properties: { metrics?: unknown[][] } }> };
    const lines = body.widgets.flatMap((w) => w.properties.metrics ?? []);
    const graphed = (namespace: string, metric: string, service?: string) =>
      lines.some((l) => l[0] === namespace && l[1] === metric && (service === undefined || (l[2] === 'service' && l[3] === service)));
    for (const metric of ['Turns', 'TimeToFirstToken', 'TurnDuration', 'ToolCalls', 'TurnCancelled', 'TurnTimedOut', 'ModelInputTokens', 'ModelOutputTokens']) {
      expect(graphed('ChatKit/prod', metric, 'chatkit-chat'), metric).toBe(true);
    }
    for (const fn of ['chat', 'threadsList', 'threadsDelete', 'messages']) {
      expect(graphed('ChatKit/prod', 'DatabaseRoundTrips', `chatkit-${fn}`), fn).toBe(true);
      expect(graphed('ChatKit/prod', 'DatabaseReconnects', `chatkit-${fn}`), fn).toBe(true);
    }
    expect(lines.map((l) => (l[0] as { expression?: string }).expression).filter(Boolean)).toEqual([
      `SEARCH('{ChatKit/prod,service,code} MetricName="TurnErrors"', 'Sum', 300)`,
    ]);
    for (const metric of ['Count', '4XXError', '5XXError', 'Latency']) expect(graphed('AWS/ApiGateway', metric), metric).toBe(true);
    for (const metric of ['Errors', 'Throttles', 'Duration', 'ConcurrentExecutions']) expect(graphed('AWS/Lambda', metric), metric).toBe(true);
    expect(body.widgets.some((w) => w.type === 'alarm')).toBe(true);
    expect(template.findOutputs('DashboardUrl')).not.toEqual({});
  });

  it("does not alarm on the authorizer's Errors (every refused token is one), but on its own failures and duration", () => {
    const alarms = resources('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const authorizerAlarms = alarms.filter((a) => JSON.stringify(a.Dimensions ?? []).includes(functionIdFor('authorizer'))).map((a) => a.MetricName);
    expect(authorizerAlarms).not.toContain('Errors');
    expect(authorizerAlarms).toEqual(expect.arrayContaining(['Throttles', 'Duration']));
    expect(alarms).toContainEqual(
      expect.objectContaining({ Namespace: 'ChatKit/prod', MetricName: 'AuthorizerFailures', Dimensions: [{ Name: 'service', Value: 'chatkit-authorizer' }], Threshold: 1 }),
    );
  });

  describe.each([
    ['default settings', {}],
    ['API Gateway logs on', { apiGatewayLogging: 'on' }],
    ['API Gateway logs with the account role', { apiGatewayLogging: 'create-role' }],
  ])('cdk-nag AWS Solutions checks, %s', (_, context) => {
    const synthesized = Object.keys(context).length ? synth(context) : { stack, suppressed: defaultSuppressed };

    it('pass', () => {
      const errors = Annotations.fromStack(synthesized.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
      expect(errors.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 120)}`)).toEqual([]);
    });

    it('accept findings only per resource, each with a reason, and every acceptance is used', () => {
      expect(synthesized.stack.templateOptions.metadata?.cdk_nag).toBeUndefined();
      const declared = synthesized.stack.node
        .findAll()
        .filter((c): c is CfnResource => c instanceof CfnResource)
        .flatMap((resource) =>
          ((resource.getMetadata('cdk_nag') as { rules_to_suppress?: Array<{ id: string; reason: string }> } | undefined)?.rules_to_suppress ?? []).map(
            (rule) => ({ resource, ...rule }),
          ),
        );
      expect(declared.length).toBeGreaterThan(0);
      for (const { resource, id, reason } of declared) {
        expect(reason.length, `${resource.node.path} ${id}`).toBeGreaterThan(20);
        const used = synthesized.suppressed.some((s) => s.resource === resource && s.ruleId === id);
        expect(used, `${id} on ${resource.node.path} is accepted but never found`).toBe(true);
      }
    });
  });
});
