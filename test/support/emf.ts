import { vi } from 'vitest';

interface EmfDocument {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/**
 * Captures what a function writes as CloudWatch reads it: Embedded Metric Format lines on stdout
 * (metrics) and JSON log lines on stdout or stderr (structured logs); anything else passes through.
 */
export function emfLines() {
  const documents: EmfDocument[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const capture = (stream: NodeJS.WriteStream) => {
    const write = stream.write.bind(stream);
    return vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let handled = false;
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if ('_aws' in parsed) documents.push(parsed as EmfDocument);
          else if ('level' in parsed) logs.push(parsed);
          else continue;
          handled = true;
        } catch {
          // not JSON after all
        }
      }
      return handled ? true : (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    });
  };
  const spies = [capture(process.stdout), capture(process.stderr)];
  return {
    documents,
    logs,
    /** Each document as its dimension values and metric values, e.g. `{ service, TurnErrors: 1 }`. */
    metrics: () => documents.map((doc) => metricValues(doc)),
    namespaces: () => documents.map((doc) => doc._aws.CloudWatchMetrics[0]!.Namespace),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

/**
 * The same reading of text a function process wrote (test/support/lambda-process.ts): its EMF
 * documents as dimension and metric values, and its JSON log lines.
 */
export function emfOutput(text: string) {
  const documents: EmfDocument[] = [];
  const logs: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if ('_aws' in parsed) documents.push(parsed as EmfDocument);
      else if ('level' in parsed) logs.push(parsed);
    } catch {
      // not JSON after all
    }
  }
  return {
    logs,
    metrics: () => documents.map((doc) => metricValues(doc)),
    namespaces: () => documents.map((doc) => doc._aws.CloudWatchMetrics[0]!.Namespace),
  };
}

function metricValues(doc: EmfDocument): Record<string, unknown> {
  const directive = doc._aws.CloudWatchMetrics[0]!;
  const out: Record<string, unknown> = {};
  for (const name of directive.Dimensions.flat()) out[name] = doc[name];
  for (const { Name } of directive.Metrics) out[Name] = doc[Name];
  return out;
}
