import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLambdaProcess, type LambdaProcess } from '../support/lambda-process.js';

// The Runtime API stand-in against Lambda's own Node.js runtime client, with handlers small enough
// to show each way an invocation can end: what the client sends is what the stand-in reports.
// The task root sits in a directory of its own: the runtime's node_modules goes beside it.
const parent = mkdtempSync(join(tmpdir(), 'runtime-api-'));
const dir = join(parent, 'task');
let fn: LambdaProcess;
beforeAll(async () => {
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'index.mjs'),
    `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
       if (event.kind === 'buffered-style') throw new Error('not streamed');
       const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 207, headers: { 'x-kind': event.kind } });
       stream.write('first ');
       await new Promise((resolve) => setTimeout(resolve, 20));
       stream.write('second');
       if (event.kind === 'fails') throw new TypeError('broke after two writes');
       stream.end();
     });`,
  );
  fn = await startLambdaProcess(dir, {});
});
afterAll(async () => {
  await fn?.stop();
  rmSync(parent, { recursive: true, force: true });
});

describe('the Runtime API stand-in under the real runtime client', () => {
  it('reports a streamed answer: the prelude, then the body as it came', async () => {
    const outcome = await fn.api.invoke({ kind: 'ok' }).outcome;
    expect(outcome).toMatchObject({ kind: 'stream', contentType: 'application/vnd.awslambda.http-integration-response', prelude: { statusCode: 207, headers: { 'x-kind': 'ok' } }, body: 'first second', error: undefined });
    expect((outcome as { chunks: Buffer[] }).chunks.map(String)).toEqual(['first ', 'second']);
  });

  it('reports a handler that fails after it started streaming, from the error trailers', async () => {
    const outcome = await fn.api.invoke({ kind: 'fails' }).outcome;
    expect(outcome).toMatchObject({ kind: 'stream', body: 'first second', error: { errorType: 'TypeError', errorMessage: 'broke after two writes' } });
  });

  it('reports a handler that fails before writing as a failed stream too, and serves the next invocation', async () => {
    const outcome = await fn.api.invoke({ kind: 'buffered-style' }).outcome;
    expect(outcome).toMatchObject({ kind: 'stream', error: { errorType: 'Error', errorMessage: 'not streamed' } });
    expect(await fn.api.invoke({ kind: 'ok' }).outcome).toMatchObject({ body: 'first second' });
    await fn.api.idle();
    expect(fn.api.violations).toEqual([]);
  });
});
