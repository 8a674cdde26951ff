import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';

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
    const stream = client.responses.stream({ model: 'gpt-test', input: 'x' });
    const summaryDeltas: string[] = [];
    stream.on('response.reasoning_summary_text.delta', (event) => summaryDeltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(summaryDeltas.join('')).toBe('First I think.Then I decide.');
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'image_generation_call', 'message', 'function_call', 'function_call']);
    expect(final.output[2]).toMatchObject({ content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] });
    expect(final.usage).toMatchObject({ input_tokens: 7, output_tokens: 3, total_tokens: 10 });
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

  it('falls back to a fixed answer when nothing is queued', async () => {
    const final = await client.responses.stream({ model: 'gpt-test', input: 'x' }).finalResponse();
    expect(final.output_text.length).toBeGreaterThan(0);
  });
});
