import type { Context } from 'aws-lambda';
import type { Writable } from 'node:stream';

// The global the Lambda Node.js runtime provides for response streaming.
declare global {
  namespace awslambda {
    function streamifyResponse(
      handler: (event: any, responseStream: Writable, context: Context) => Promise<void>,
    ): (event: any, responseStream: Writable, context: Context) => Promise<void>;
    namespace HttpResponseStream {
      function from(stream: Writable, metadata: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] }): Writable;
    }
  }
}
export {};
