import { afterAll, beforeAll, vi } from 'vitest';
import { restEvent } from './apigw.js';
import { installAwslambdaShim, invokeStreaming } from './awslambda.js';
import { createMigratedDatabase, type TestDatabase } from './backends.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './scripted-openai.js';

export interface ChatFunction {
  /** A migrated database of this suite's own. */
  readonly testDb: TestDatabase;
  /** The scripted model the function's `openai` client talks to. */
  readonly model: ScriptedOpenAI;
  /** POST /chatkit as API Gateway hands it to the streaming function, for `userId`. */
  post(userId: string, body: unknown, options?: Parameters<typeof invokeStreaming>[2]): ReturnType<typeof invokeStreaming>;
  /** A new instance: the function's modules loaded afresh (its own connections), with `env` added. */
  coldStart(env?: Record<string, string>): Promise<void>;
}

/**
 * functions/chat.ts under the `awslambda` shim (test/support/awslambda.ts), configured as the stack
 * deploys it, against a fresh migrated database and a scripted model: registers the suite's
 * beforeAll/afterAll. For what Lambda's own runtime client cannot show; the built function runs
 * under that client in test/functions/runtime-client.test.ts.
 */
export function chatFunctionUnderShim(env: Record<string, string> = {}): ChatFunction {
  let testDb: TestDatabase | undefined;
  let model: ScriptedOpenAI | undefined;
  let handler: unknown;
  const added = new Set<string>();

  const coldStart = async (extra: Record<string, string> = {}) => {
    const config = { DATABASE_URL: testDb!.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model!.baseURL, NODE_ENV: 'production', ...env, ...extra };
    for (const name of Object.keys(config)) if (!(name in process.env)) added.add(name);
    Object.assign(process.env, config);
    vi.resetModules();
    handler = (await import('../../functions/chat.js')).handler;
  };

  beforeAll(async () => {
    const created = await createMigratedDatabase();
    testDb = created.testDb;
    await created.database.close();
    model = await startScriptedOpenAI();
    installAwslambdaShim();
    await coldStart();
  });
  afterAll(async () => {
    for (const name of added) delete process.env[name];
    await model?.close();
    await testDb?.drop();
  });

  return {
    get testDb() {
      return testDb!;
    },
    get model() {
      return model!;
    },
    post: (userId, body, options = {}) =>
      invokeStreaming(handler, restEvent({ method: 'POST', resource: '/chatkit', userId, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }), options),
    coldStart,
  };
}
