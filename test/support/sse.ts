import type { ThreadStreamEvent } from '../../shared/protocol/index.js';

/** Parses a Server-Sent Events body as a ChatKit client does: `data: <json>` blocks. */
export function parseSse(body: string): ThreadStreamEvent[] {
  return body
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n'))
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data) as ThreadStreamEvent);
}

/** Reads a streaming fetch response event by event. */
export async function* readSse(response: Response): AsyncGenerator<ThreadStreamEvent> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end + 2);
      buffer = buffer.slice(end + 2);
      yield* parseSse(block);
    }
  }
}
