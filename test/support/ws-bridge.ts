import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { WebSocketServer } from 'ws';

/**
 * A few lines standing in for Neon's WebSocket proxy: the driver connects to
 * `ws://host:port/v1?address=HOST:PORT` and the PostgreSQL wire protocol flows both ways
 * as binary messages. Only loopback targets are allowed.
 */
export async function startWsBridge(): Promise<{ proxy: string; dropConnections(): void; stop(): Promise<void> }> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket, request) => {
    const address = new URL(request.url ?? '/', 'http://bridge').searchParams.get('address') ?? '';
    const [host, port] = address.split(':');
    if (host !== '127.0.0.1' && host !== 'localhost') {
      socket.close(1008, 'only loopback targets');
      return;
    }
    const tcp = connect({ host: '127.0.0.1', port: Number(port) });
    const pending: Buffer[] = [];
    tcp.on('connect', () => {
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    socket.on('message', (data: Buffer) => (tcp.connecting ? pending.push(data) : tcp.write(data)));
    tcp.on('data', (data) => socket.send(data));
    socket.on('close', () => tcp.destroy());
    socket.on('error', () => tcp.destroy());
    tcp.on('close', () => socket.close());
    tcp.on('error', () => socket.terminate());
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as { port: number };
  return {
    proxy: `127.0.0.1:${port}`,
    /** Cuts every open connection, as Neon's proxy does when a compute suspends. */
    dropConnections: () => {
      for (const client of wss.clients) client.terminate();
    },
    stop: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => http.close(r));
    },
  };
}
