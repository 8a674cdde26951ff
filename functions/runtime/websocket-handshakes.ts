import { channel, subscribe } from 'node:diagnostics_channel';

interface UndiciRequest {
  upgrade?: string | null;
}
interface Address {
  address: string;
  port: number;
}

const headers = channel('undici:request:headers');

/**
 * Powertools' fetch instrumentation opens an X-Ray subsegment on `undici:request:create` and closes
 * it on `undici:request:headers` or `undici:request:error`. Node's own WebSocket (the Neon driver's
 * transport) goes through undici too, and for a handshake answered `101 Switching Protocols` undici
 * publishes neither: the subsegment stayed open, so the invocation's subsegment never completed and
 * X-Ray received nothing for it. Here the handshake's `undici:request:headers` is published when
 * the WebSocket opens, so the instrumentation closes the handshake's subsegment (status 101) as it
 * closes any other request's. A refused or failed handshake already ends with one of the two events.
 *
 * undici tells which socket a request was sent on (`undici:client:sendHeaders`) and the local address
 * of the socket a WebSocket opened on (`undici:websocket:open`): the two together name the request.
 */
export function publishWebSocketHandshakeResponses(): void {
  const handshakes = new Map<string, UndiciRequest>();
  const key = (address: string | undefined, port: number | undefined) => `${address}:${port}`;
  subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: UndiciRequest; socket: { localAddress?: string; localPort?: number } };
    if (request.upgrade === 'websocket') handshakes.set(key(socket.localAddress, socket.localPort), request);
  });
  const forget = (message: unknown) => {
    const { request } = message as { request: UndiciRequest };
    for (const [socket, pending] of handshakes) if (pending === request) handshakes.delete(socket);
  };
  subscribe('undici:request:headers', forget);
  subscribe('undici:request:error', forget);
  subscribe('undici:websocket:open', (message) => {
    const { address, handshakeResponse } = message as { address: Address; handshakeResponse?: { status?: number; statusText?: string } };
    const socket = key(address.address, address.port);
    const request = handshakes.get(socket);
    if (!request) return;
    handshakes.delete(socket);
    headers.publish({ request, response: { statusCode: handshakeResponse?.status ?? 101, statusText: handshakeResponse?.statusText ?? 'Switching Protocols', headers: [] } });
  });
}
