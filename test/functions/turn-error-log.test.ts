import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chatFunctionUnderShim } from '../support/chat-function.js';
import { emfLines } from '../support/emf.js';
import { PRESIGNED_SESSION_TOKEN, PRESIGNED_SIGNATURE, PRESIGNED_URL, uid } from '../support/fixtures.js';

// A failed turn's error is logged (it must be, to be found) with the presigned URL the model
// could not fetch, its signature and credentials redacted (shared/redact.ts), through the chat
// function as Lambda runs it.
const [SIGNATURE, SESSION_TOKEN, presigned] = [PRESIGNED_SIGNATURE, PRESIGNED_SESSION_TOKEN, PRESIGNED_URL];

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
