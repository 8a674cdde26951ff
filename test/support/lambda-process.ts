import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readlinkSync, renameSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRuntimeApi, type RuntimeApi } from './runtime-api.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** Lambda's own Node.js runtime client, open source: `awslambda`, response streaming, the Runtime API loop. */
export const RUNTIME_CLIENT = join(ROOT, 'node_modules', 'aws-lambda-ric', 'index.mjs');
const OBSERVER = join(import.meta.dirname, 'observe-function.mjs');

export interface LambdaProcess {
  api: RuntimeApi;
  child: ChildProcess;
  /** What the function wrote to stdout and stderr (the runtime client's log lines). */
  output(): string;
  /**
   * With `observe`: what the process did, in order — `load <file URL>` for each module file it
   * loaded (the runtime client's own left out), `first response write <path>` for each answer.
   */
  observed(): string[];
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Runs a built function (a directory with index.mjs, as the stack deploys it) the way Lambda's
 * Node.js runtime does: a fresh Node process running the runtime client, which loads the handler
 * from LAMBDA_TASK_ROOT and serves invocations from a Runtime API, here the stand-in's.
 * `env` is the function's configuration; the runtime's own variables are set here.
 */
export async function startLambdaProcess(
  taskRoot: string,
  env: Record<string, string | undefined>,
  { functionName = 'chatkit-test', memoryMb = 1024, observe = false } = {},
): Promise<LambdaProcess> {
  provideAwsSdk(taskRoot);
  const api = await startRuntimeApi();
  const child = spawn(process.execPath, [RUNTIME_CLIENT], {
    cwd: taskRoot,
    env: {
      PATH: process.env.PATH,
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_LAMBDA_RUNTIME_API: api.address,
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: taskRoot,
      LAMBDA_RUNTIME_DIR: dirname(RUNTIME_CLIENT),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/03/[$LATEST]0123456789abcdef',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
      ...env,
      ...(observe ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(OBSERVER).href}`.trim() } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    api,
    child,
    output: () => output,
    observed: () => output.split('\n').filter((line) => line.startsWith('@@observe ')).map((line) => line.slice('@@observe '.length)),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await api.close();
    },
  };
}

/**
 * Lambda's Node.js runtime provides the AWS SDK v3 (and nothing else): the functions leave it out
 * of their bundles. A link beside the task root lets the SDK resolve as it does there. A link left
 * by another checkout (even a dangling one) is replaced, atomically, since suites run in parallel.
 */
function provideAwsSdk(taskRoot: string): void {
  const modules = join(dirname(taskRoot), 'node_modules');
  const link = join(modules, '@aws-sdk');
  const target = join(ROOT, 'node_modules', '@aws-sdk');
  if (linkTarget(link) === target) return;
  mkdirSync(modules, { recursive: true });
  const fresh = `${link}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  symlinkSync(target, fresh);
  renameSync(fresh, link);
}

function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
