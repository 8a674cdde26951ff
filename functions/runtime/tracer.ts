import { Tracer } from '@aws-lambda-powertools/tracer';
import { publishWebSocketHandshakeResponses } from './websocket-handshakes.js';

/**
 * Powertools' tracer as created after the cold start's invocation (functions/runtime/tracing.ts
 * loads this module then): the invocations it traces are never the cold start, so its ColdStart
 * annotation says false from the first.
 */
class TracerAfterColdStart extends Tracer {
  constructor() {
    // node's http/https modules are left unpatched: nothing of ours uses them but the S3 SDK.
    super({ captureHTTPsRequests: false });
    this.getColdStart();
  }
}

/**
 * The X-Ray tracer: outgoing fetch requests (the model, the secrets, the JWKS, the Neon
 * WebSocket's handshake) become subsegments. Undefined where tracing is off.
 */
export function createTracer(): Tracer | undefined {
  const tracer = new TracerAfterColdStart();
  if (!tracer.isTracingEnabled()) return undefined;
  tracer.provider.instrumentFetch();
  publishWebSocketHandshakeResponses();
  return tracer;
}
