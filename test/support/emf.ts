import { vi } from 'vitest';

interface EmfDocument {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/**
 * Captures the CloudWatch Embedded Metric Format lines a function writes to stdout (what
 * CloudWatch turns into metrics), passing everything else through.
 */
export function emfLines() {
  const documents: EmfDocument[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let handled = false;
    for (const line of text.split('\n')) {
      if (!line.includes('"_aws"')) continue;
      try {
        documents.push(JSON.parse(line) as EmfDocument);
        handled = true;
      } catch {
        // not JSON after all
      }
    }
    return handled ? true : (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  });
  return {
    documents,
    /** Each document as its dimension values and metric values, e.g. `{ service, TurnErrors: 1 }`. */
    metrics: () =>
      documents.map((doc) => {
        const directive = doc._aws.CloudWatchMetrics[0]!;
        const out: Record<string, unknown> = {};
        for (const name of directive.Dimensions.flat()) out[name] = doc[name];
        for (const { Name } of directive.Metrics) out[Name] = doc[Name];
        return out;
      }),
    namespaces: () => documents.map((doc) => doc._aws.CloudWatchMetrics[0]!.Namespace),
    restore: () => spy.mockRestore(),
  };
}
