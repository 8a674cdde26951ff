import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chatFunctionUnderShim } from '../support/chat-function.js';
import { emfLines } from '../support/emf.js';
import { uid } from '../support/fixtures.js';

// A failed turn's error is logged (it must be, to be found) with the presigned URL the model
// could not fetch, its signature and credentials redacted (shared/redact.ts), through the chat
// function as Lambda runs it.
const SIGNATURE = '9f2c4be1d0a7c3e5b6f8a9d0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQD';
const presigned =
  'https://chatkit-attachments.s3.eu-west-1.amazonaws.com/attached/user-1/atc_1?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  `&X-Amz-Credential=ASIAEXAMPLEKEY%2F20261126%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261126T101010Z&X-Amz-Expires=3600` +
  `&X-Amz-Security-Token=${encodeURIComponent(SESSION_TOKEN)}&X-Amz-SignedHeaders=host&X-Amz-Signature=${SIGNATURE}`;

describe('a failed turn on the chat function', () => {
  const fn = chatFunctionUnderShim({ POWERTOOLS_SERVICE_NAME: 'chatkit-chat', POWERTOOLS_METRICS_NAMESPACE: 'ChatKit/test', POWERTOOLS_LOG_LEVEL: 'ERROR' });
  let stdout: ReturnType<typeof emfLines>;

  beforeEach(() => (stdout = emfLines()));
  afterEach(() => stdout.restore());

  it('is logged with the file URL the model could not fetch, its signature and credentials redacted', async () => {
    // What the Responses API answers when the presigned URL of an attachment has expired.
    fn.model.enqueue({ failWith: { status: 400, message: `Error while downloading ${presigned}. Upstream status code: 403.` } });
    const body = { type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: 'Summarise my file' }], attachments: [], inference_options: {} } } };
    const result = await fn.post(uid('user'), body);
    expect(result.body).toContain('"type":"error"');
    const failed = stdout.logs.find((log) => log.message === 'the turn failed');
    expect(failed).toBeDefined();
    const line = JSON.stringify(failed);
    expect(line).toContain('chatkit-attachments.s3.eu-west-1.amazonaws.com/attached/user-1/atc_1');
    expect(line).toContain('X-Amz-Signature=[redacted]');
    for (const secret of [SIGNATURE, 'ASIAEXAMPLEKEY', encodeURIComponent(SESSION_TOKEN)]) expect(JSON.stringify(stdout.logs)).not.toContain(secret);
  });
});
