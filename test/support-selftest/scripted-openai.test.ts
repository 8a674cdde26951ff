import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens, startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';

let server: ScriptedOpenAI;
let client: OpenAI;

beforeAll(async () => {
  server = await startScriptedOpenAI();
  client = new OpenAI({ apiKey: 'test', baseURL: server.baseURL, maxRetries: 0 });
});
afterAll(() => server.close());

describe('scripted OpenAI server with the real openai SDK', () => {
  it('streams text that responses.create({stream:true}) parses in the wire order', async () => {
    server.enqueue({ text: ['Hello', ', ', 'world'] });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'hi', stream: true });
    const types: string[] = [];
    const sequence: number[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(text).toBe('Hello, world');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.content_part.done');
    expect(sequence).toEqual(sequence.map((_, i) => i));
    expect(server.requests.at(-1)).toMatchObject({ path: '/v1/responses', body: { model: 'gpt-test', input: 'hi', stream: true }, aborted: false });
  });

  it('passes the strict responses.stream() helper, with annotations', async () => {
    const annotation = { type: 'url_citation' as const, url: 'https://example.com', title: 'Ex', start_index: 0, end_index: 4 };
    server.enqueue({ text: 'Some cited answer', annotations: [annotation] });
    const stream = client.responses.stream({ model: 'gpt-test', input: 'cite' });
    const added: unknown[] = [];
    stream.on('response.output_text.annotation.added', (event) => added.push(event.annotation));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Some cited answer');
    expect(added).toEqual([annotation]);
    const message = final.output[0];
    expect(message?.type === 'message' && message.content[0]?.type === 'output_text' && message.content[0].annotations).toEqual([annotation]);
  });

  it('streams a function call item', async () => {
    server.enqueue({ functionCall: { name: 'lookup', arguments: '{"q":"x"}', call_id: 'call_1' } });
    const final = await client.responses.stream({ model: 'gpt-test', input: 'call' }).finalResponse();
    expect(final.output).toEqual([expect.objectContaining({ type: 'function_call', name: 'lookup', arguments: '{"q":"x"}', call_id: 'call_1', status: 'completed' })]);
  });

  it('streams reasoning summaries, a refusal, an image generation and parallel calls that the strict helper accepts', async () => {
    server.enqueue({
      reasoning: ['First I think.', 'Then I decide.'],
      imageGeneration: { partials: ['AAAA'], result: 'BBBB' },
      refusal: 'I cannot help with that.',
      functionCall: { name: 'a', arguments: '{}', call_id: 'call_a' },
      functionCalls: [{ name: 'b', arguments: '{"x":1}', call_id: 'call_b' }],
      usage: { input_tokens: 7, output_tokens: 3 },
    });
    const stream = client.responses.stream({ model: 'gpt-5.6-luna', input: 'x', reasoning: { effort: 'low', summary: 'auto' } });
    const summaryDeltas: string[] = [];
    stream.on('response.reasoning_summary_text.delta', (event) => summaryDeltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(summaryDeltas.join('')).toBe('First I think.Then I decide.');
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'image_generation_call', 'message', 'function_call', 'function_call']);
    expect(final.output[2]).toMatchObject({ content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] });
    expect(final.usage).toMatchObject({ input_tokens: 7, output_tokens: 3, total_tokens: 10 });
  });

  it('streams a message of several content parts', async () => {
    server.enqueue({ text: 'First part.', moreText: ['Second part.'] });
    const stream = client.responses.stream({ model: 'gpt-test', input: 'x' });
    const added: number[] = [];
    stream.on('response.content_part.added', (event) => added.push(event.content_index));
    const final = await stream.finalResponse();
    expect(added).toEqual([0, 1]);
    const message = final.output[0];
    expect(message?.type === 'message' && message.content.map((part) => (part.type === 'output_text' ? part.text : ''))).toEqual(['First part.', 'Second part.']);
  });

  it('streams file and container file citations', async () => {
    const annotations = [
      { type: 'file_citation' as const, file_id: 'file_1', filename: 'spec.md', index: 3 },
      { type: 'container_file_citation' as const, container_id: 'cntr_1', file_id: 'cfile_1', filename: 'out.csv', start_index: 0, end_index: 4 },
    ];
    server.enqueue({ text: 'Cited text', annotations });
    const final = await client.responses.stream({ model: 'gpt-test', input: 'cite' }).finalResponse();
    const message = final.output[0];
    expect(message?.type === 'message' && message.content[0]?.type === 'output_text' && message.content[0].annotations).toEqual(annotations);
  });

  describe('reasoning models, as strict as the real API', () => {
    const refusal = (request: Promise<unknown>) => request.then(() => null, (e: unknown) => e as APIError);

    it('opens each response with a reasoning item: encrypted content only when included, a summary only when asked for', async () => {
      server.enqueue({ reasoning: ['Weighing it.'], text: 'Yes.' }, { text: 'No.' });
      const full = await client.responses
        .stream({ model: 'gpt-5.6-luna', input: 'x', store: false, include: ['reasoning.encrypted_content'], reasoning: { effort: 'low', summary: 'auto' } })
        .finalResponse();
      expect(full.output[0]).toEqual({ type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [{ type: 'summary_text', text: 'Weighing it.' }], encrypted_content: expect.any(String) });
      const bare = await client.responses.stream({ model: 'o4-mini', input: 'x', store: false }).finalResponse();
      expect(bare.output[0]).toEqual({ type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [] });
      expect(bare.output_text).toBe('No.');
    });

    it('answers 404 for a reasoning item sent back by id alone under store: false, and takes it back with its encrypted content', async () => {
      server.enqueue({ functionCall: { name: 'f', arguments: '{}', call_id: 'call_r' } });
      const first = await client.responses.stream({ model: 'gpt-5', input: 'x', store: false, include: ['reasoning.encrypted_content'] }).finalResponse();
      const reasoning = first.output[0] as { id: string; encrypted_content: string };
      const call = first.output[1]!;
      const next = (item: unknown) => client.responses.create({ model: 'gpt-5', store: false, stream: true, input: [item as never, call as never, { type: 'function_call_output', call_id: 'call_r', output: 'ok' }] });
      const error = await refusal(next({ type: 'reasoning', id: reasoning.id, summary: [] }));
      expect(error).toBeInstanceOf(APIError);
      expect(error!.status).toBe(404);
      expect(error!.error).toEqual({
        message: `Item with id '${reasoning.id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
        type: 'invalid_request_error',
        param: 'input',
        code: null,
      });
      expect((await refusal(next({ type: 'reasoning', id: reasoning.id, summary: [], encrypted_content: 'forged' })))!.status).toBe(400);
      server.enqueue({ text: 'Done.' });
      await expect(next({ type: 'reasoning', id: reasoning.id, summary: [], encrypted_content: reasoning.encrypted_content })).resolves.toBeDefined();
    });

    it('spends a small output budget on thinking: no text, incomplete', async () => {
      server.enqueueTitle('Short');
      const cut = await client.responses.create({ model: 'gpt-5-mini', input: 'x', max_output_tokens: 24 });
      expect([cut.status, cut.incomplete_details, cut.output_text]).toEqual(['incomplete', { reason: 'max_output_tokens' }, '']);
      server.enqueueTitle('Long enough');
      expect((await client.responses.create({ model: 'gpt-5-mini', input: 'x', max_output_tokens: 1024 })).output_text).toBe('Long enough');
    });

    it('refuses reasoning settings and encrypted content for a model that does not reason, and no reasoning under effort none', async () => {
      const include = await refusal(client.responses.create({ model: 'gpt-4.1-mini', input: 'x', include: ['reasoning.encrypted_content'] }));
      expect([include!.status, include!.error]).toEqual([400, { message: 'Encrypted content is not supported with this model.', type: 'invalid_request_error', param: 'include', code: null }]);
      const effort = await refusal(client.responses.create({ model: 'gpt-4.1-mini', input: 'x', reasoning: { effort: 'low' } }));
      expect([effort!.status, (effort!.error as { code: string }).code]).toEqual([400, 'unsupported_parameter']);
      server.enqueue({ text: 'Quick.' });
      const quick = await client.responses.stream({ model: 'gpt-5.6-luna', input: 'x', reasoning: { effort: 'none' } }).finalResponse();
      expect(quick.output.map((item) => item.type)).toEqual(['message']);
      server.enqueue({ reasoning: ['Hmm.'], text: 'x' });
      const mistake = await refusal(client.responses.create({ model: 'gpt-test', input: 'x', stream: true }));
      expect(mistake!.message).toContain('script error');
    });

    it("refuses an effort the model's family does not take, with the API's message", async () => {
      const refused = await refusal(client.responses.create({ model: 'gpt-5.6-luna', input: 'x', reasoning: { effort: 'minimal' } }));
      expect([refused!.status, refused!.error]).toEqual([
        400,
        {
          message: "Unsupported value: 'minimal' is not supported with the 'gpt-5.6-luna' model. Supported values are: 'none', 'low', 'medium', 'high', and 'xhigh'.",
          type: 'invalid_request_error',
          param: 'reasoning.effort',
          code: 'unsupported_value',
        },
      ]);
      expect((await refusal(client.responses.create({ model: 'o4-mini', input: 'x', reasoning: { effort: 'none' } })))!.status).toBe(400);
      server.enqueueTitle('Fine');
      expect((await client.responses.create({ model: 'gpt-5-mini', input: 'x', reasoning: { effort: 'minimal' } })).output_text).toBe('Fine');
    });
  });

  describe('request shapes, as strict as the real API', () => {
    const refusal = (request: Promise<unknown>) => request.then(() => null, (e: unknown) => e as APIError);
    const refused = async (body: Record<string, unknown>) => {
      const error = await refusal(client.responses.create({ model: 'gpt-test', stream: true, ...body } as never));
      return error && [error.status, (error.error as { param: string }).param, (error.error as { code: string }).code];
    };

    it("refuses a message part its role does not take (an assistant's input_text, a user's output_text), and an unknown role", async () => {
      const said = (role: string, type: string) => ({ input: [{ role, content: [{ type, text: 'hi' }] }] });
      expect(await refused(said('assistant', 'input_text'))).toEqual([400, 'input[0].content[0]', 'invalid_value']);
      expect(await refused(said('user', 'output_text'))).toEqual([400, 'input[0].content[0]', 'invalid_value']);
      expect(await refused(said('tool', 'input_text'))).toEqual([400, 'input[0].role', 'invalid_value']);
      server.enqueue({ text: 'Fine.' });
      expect(await refused({ input: [{ role: 'assistant', content: [{ type: 'output_text', text: 'hi' }] }, { role: 'user', content: 'and?' }] })).toBeNull();
    });

    it('refuses a call without its arguments string, a reasoning item without its summary, and a function tool name the API does not take', async () => {
      const call = { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' };
      const output = { type: 'function_call_output', call_id: 'c', output: 'ok' };
      expect(await refused({ input: [{ ...call, arguments: {} }, output] })).toEqual([400, 'input[0].arguments', 'invalid_type']);
      expect(await refused({ input: [{ type: 'reasoning', id: 'rs_1', encrypted_content: 'x' }] })).toEqual([400, 'input[0].summary', 'missing_required_parameter']);
      const tool = (name: string) => ({ input: 'x', tools: [{ type: 'function', name, parameters: { type: 'object', properties: {} }, strict: false }] });
      expect(await refused(tool('get time'))).toEqual([400, 'tools[0].name', 'invalid_value']);
      expect(await refused(tool('x'.repeat(65)))).toEqual([400, 'tools[0].name', 'string_above_max_length']);
      server.enqueue({ text: 'Fine.' });
      expect(await refused(tool('get_time-2'))).toBeNull();
    });
  });

  describe('the context window and tool call pairs, as strict as the real API', () => {
    const refusal = (request: Promise<unknown>) => request.then(() => null, (e: unknown) => e as APIError);
    const exceeded = {
      message: 'Your input exceeds the context window of this model. Please adjust your input and try again.',
      type: 'invalid_request_error',
      param: 'input',
      code: 'context_length_exceeded',
    };

    it('estimates input tokens as characters/4, an image or file at a flat 1,000', () => {
      expect(estimateInputTokens({ instructions: 'abcd', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x'.repeat(400) }] }] })).toBe(
        Math.ceil((4 + 'message'.length + 'user'.length + 'input_text'.length + 400) / 4),
      );
      const image = { type: 'message', role: 'user', content: [{ type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${'A'.repeat(100_000)}` }] };
      expect(estimateInputTokens({ input: [image] })).toBe(Math.ceil(('message' + 'user' + 'input_image' + 'auto').length / 4) + 1_000);
    });

    it("refuses an input over the model's window with the real 400, streamed or not; a test's limit applies to every model until reset", async () => {
      // GPT-4o takes 111,616 tokens of input: about 446,000 characters.
      const big = 'x'.repeat(450_000);
      const tooBig = await refusal(client.responses.create({ model: 'gpt-4o-mini', input: big, stream: true }));
      expect([tooBig!.status, tooBig!.code, tooBig!.error]).toEqual([400, 'context_length_exceeded', exceeded]);
      server.enqueue({ text: 'Fits.' });
      expect((await client.responses.stream({ model: 'gpt-4.1-mini', input: big }).finalResponse()).output_text).toBe('Fits.');

      server.limitInput(10);
      expect((await refusal(client.responses.create({ model: 'gpt-5.6-luna', input: 'y'.repeat(41) })))!.code).toBe('context_length_exceeded');
      server.enqueue({ text: 'Small.' });
      expect((await client.responses.stream({ model: 'gpt-5.6-luna', input: 'y'.repeat(40) }).finalResponse()).output_text).toBe('Small.');
      server.reset();
      server.enqueue({ text: 'Back.' });
      expect((await client.responses.stream({ model: 'gpt-5.6-luna', input: 'y'.repeat(41) }).finalResponse()).output_text).toBe('Back.');
    });

    it('can refuse a streamed input over the window as an error event after response.created, which the SDK raises with the code', async () => {
      server.limitInput(10, { as: 'event' });
      const stream = await client.responses.create({ model: 'gpt-test', input: 'z'.repeat(100), stream: true });
      const types: string[] = [];
      const error = await (async () => {
        for await (const event of stream) types.push(event.type);
      })().catch((e: unknown) => e as APIError);
      server.reset();
      expect(types).toEqual(['response.created']);
      expect(error).toBeInstanceOf(APIError);
      expect([(error as APIError).code, (error as APIError).message]).toEqual(['context_length_exceeded', exceeded.message]);
    });

    it('refuses a function call output without its call, and a call without its output', async () => {
      const call = { type: 'function_call', call_id: 'call_p', name: 'f', arguments: '{}' } as const;
      const output = { type: 'function_call_output', call_id: 'call_p', output: 'ok' } as const;
      const orphan = await refusal(client.responses.create({ model: 'gpt-test', input: [output], stream: true }));
      expect([orphan!.status, orphan!.error]).toEqual([400, { message: 'No tool call found for function call output with call_id call_p.', type: 'invalid_request_error', param: 'input', code: null }]);
      const unanswered = await refusal(client.responses.create({ model: 'gpt-test', input: [call], stream: true }));
      expect([unanswered!.status, unanswered!.message]).toEqual([400, '400 No tool output found for function call call_p.']);
      server.enqueue({ text: 'Paired.' });
      expect((await client.responses.stream({ model: 'gpt-test', input: [call, output] }).finalResponse()).output_text).toBe('Paired.');
    });
  });

  it('surfaces an HTTP failure as APIError', async () => {
    server.enqueue({ failWith: { status: 500, message: 'model down' } });
    const error = await client.responses.create({ model: 'gpt-test', input: 'x', stream: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(500);
    expect((error as APIError).message).toContain('model down');
  });

  it('sends a mid-stream error event after the first deltas, which the SDK raises, and no response.completed', async () => {
    server.enqueue({ text: ['a', 'b', 'c'], failMidStream: { afterDeltas: 2, message: 'overloaded' } });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'x', stream: true });
    let text = '';
    const types: string[] = [];
    const error = await (async () => {
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'response.output_text.delta') text += event.delta;
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('overloaded');
    expect(text).toBe('ab');
    expect(types).not.toContain('response.completed');
  });

  it('makes the responses.stream() helper reject on a mid-stream error', async () => {
    server.enqueue({ text: ['a', 'b'], failMidStream: { afterDeltas: 1, message: 'overloaded' } });
    await expect(client.responses.stream({ model: 'gpt-test', input: 'x' }).finalResponse()).rejects.toThrow();
  });

  it('records a client abort mid-stream as aborted', async () => {
    server.enqueue({ text: ['one ', 'two ', 'three ', 'four'], deltaDelayMs: 50 });
    const controller = new AbortController();
    const stream = await client.responses.create({ model: 'gpt-test', input: 'x', stream: true }, { signal: controller.signal });
    let deltas = 0;
    let completed = false;
    // The SDK ends iteration quietly when its own signal aborts.
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta' && ++deltas === 1) controller.abort();
      if (event.type === 'response.completed') completed = true;
    }
    expect(deltas).toBe(1);
    expect(completed).toBe(false);
    const request = server.requests.at(-1)!;
    await expect.poll(() => request.aborted).toBe(true);
  });

  it('answers a non-streamed request with a queued title', async () => {
    server.enqueueTitle('Trip to Rome');
    const response = await client.responses.create({ model: 'gpt-test', input: 'title please' });
    expect(response.output_text).toBe('Trip to Rome');
    expect(response.status).toBe('completed');
  });

  it('answers a multipart transcription from its queue', async () => {
    server.enqueueTranscription('hello from audio');
    const file = new File([new Uint8Array([1, 2, 3])], 'clip.webm', { type: 'audio/webm' });
    const result = await client.audio.transcriptions.create({ model: 'gpt-4o-transcribe', file });
    expect(result.text).toBe('hello from audio');
    const request = server.requests.at(-1)!;
    expect(request.path).toBe('/v1/audio/transcriptions');
    expect(String(request.body)).toContain('clip.webm');
  });

  describe("the input's images and files, read as the real API reads them before answering", () => {
    let files: Server;
    let base: string;
    const hanging: ServerResponse[] = [];
    beforeAll(async () => {
      files = createServer((req, res) => {
        const path = new URL(req.url ?? '/', base).pathname;
        if (path === '/cat.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        if (path === '/hang') return void hanging.push(res);
        res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>');
      });
      await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    });
    afterAll(() => {
      for (const res of hanging) res.destroy();
      files.closeAllConnections();
      files.close();
    });
    const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
    const ask = (content: unknown[], to: OpenAI = client) => to.responses.create({ model: 'gpt-test', stream: true, input: [{ role: 'user', content: [{ type: 'input_text', text: 'look' }, ...content] }] as never }).then(
      async (stream) => {
        for await (const _ of stream);
        return null;
      },
      (e: unknown) => e as APIError,
    );
    const downloadFailed = (url: string) => ({ message: `Error while downloading ${url}.`, type: 'invalid_request_error', param: 'url', code: 'invalid_value' });

    it('downloads each http(s) URL, and answers once every one gave its bytes', async () => {
      expect(await ask([{ type: 'input_image', detail: 'auto', image_url: `${base}/cat.png` }, { type: 'input_file', filename: 'r.pdf', file_url: `${base}/cat.png?again` }])).toBeNull();
      expect(server.requests.at(-1)!.downloads).toEqual([
        { url: `${base}/cat.png`, status: 200 },
        { url: `${base}/cat.png?again`, status: 200 },
      ]);
    });

    it('refuses the whole request with 400 "Error while downloading <url>." when a download fails: an error status, no server, no answer in time', async () => {
      const impatient = await startScriptedOpenAI({ downloadTimeoutMs: 300 });
      const impatientClient = new OpenAI({ apiKey: 'test', baseURL: impatient.baseURL, maxRetries: 0 });
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const nobody = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x.png`;
      await new Promise((resolve) => closed.close(resolve));
      try {
        for (const [content, url] of [
          [{ type: 'input_image', detail: 'auto', image_url: `${base}/gone.png` }, `${base}/gone.png`],
          [{ type: 'input_file', filename: 'r.pdf', file_url: `${base}/gone.pdf` }, `${base}/gone.pdf`],
          [{ type: 'input_image', detail: 'auto', image_url: nobody }, nobody],
          [{ type: 'input_image', detail: 'auto', image_url: `${base}/hang` }, `${base}/hang`],
        ] as const) {
          impatient.enqueue({ text: 'Never sent.' });
          const error = await ask([{ type: 'input_image', detail: 'auto', image_url: `${base}/cat.png` }, content], impatientClient);
          expect(error).toBeInstanceOf(APIError);
          expect({ status: error!.status, error: error!.error }).toEqual({ status: 400, error: downloadFailed(url) });
        }
        expect(impatient.requests.map((r) => r.downloads!.at(-1)!.status)).toEqual([403, 403, 0, 0]);
      } finally {
        impatient.reset();
        await impatient.close();
      }
    });

    it('decodes each data URL: one that is not base64 bytes of an image is a 400 naming the part', async () => {
      expect(await ask([{ type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${PNG.toString('base64')}` }, { type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' }])).toBeNull();
      for (const [part, param] of [
        [{ type: 'input_image', detail: 'auto', image_url: 'data:image/png;base64,' }, 'input[0].content[1].image_url'],
        [{ type: 'input_image', detail: 'auto', image_url: 'data:image/png;base64,not base64!' }, 'input[0].content[1].image_url'],
        [{ type: 'input_image', detail: 'auto', image_url: 'data:text/plain;base64,aGk=' }, 'input[0].content[1].image_url'],
        [{ type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,%%%' }, 'input[0].content[1].file_data'],
      ] as const) {
        const error = await ask([part]);
        expect({ status: error?.status, param: (error?.error as { param?: string })?.param, code: (error?.error as { code?: string })?.code }).toEqual({ status: 400, param, code: 'invalid_value' });
      }
    });
  });

  it('falls back to a fixed answer when nothing is queued', async () => {
    const final = await client.responses.stream({ model: 'gpt-test', input: 'x' }).finalResponse();
    expect(final.output_text.length).toBeGreaterThan(0);
  });
});
