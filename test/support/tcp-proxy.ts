import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port on 127.0.0.1 to connect to instead of the target. */
  port: number;
  /** Resets every open connection at once, as a crashed pooler or a network reset does. */
  killAll(): void;
  /** Stops forwarding in both directions, for open and new connections alike: a link that went silent. */
  freeze(): void;
  /** Forwards again whatever was held back by freeze. */
  resume(): void;
  /** Kills every connection and refuses new ones until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port (if stopped). */
  start(): Promise<void>;
  /** stop(), `downMs` of refused connections, start(). */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

/** A TCP forwarder on 127.0.0.1 that tests control, standing between a driver and its database. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let frozen = false;
  let server: Server;

  const kill = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const link = (pair: Pair) => {
    const upstream = connect(target);
    pair.upstream = upstream;
    pair.client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => pair.client.write(chunk));
    upstream.on('end', () => pair.client.end());
    pair.client.on('end', () => upstream.end());
    upstream.on('close', () => kill(pair));
    upstream.on('error', () => kill(pair));
  };

  const accept = (client: Socket) => {
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    client.on('close', () => kill(pair));
    client.on('error', () => kill(pair));
    if (frozen) client.pause(); // linked on resume
    else link(pair);
  };

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer(accept);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });

  const killAll = () => {
    for (const pair of [...pairs]) {
      pair.client.resetAndDestroy();
      pair.upstream?.resetAndDestroy();
      kill(pair);
    }
  };
  const resume = () => {
    frozen = false;
    for (const pair of [...pairs]) {
      if (!pair.upstream) link(pair);
      pair.client.resume();
      pair.upstream!.resume();
    }
  };
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      killAll();
    });

  const start = async () => {
    if (!server.listening) await listen(port);
  };

  const port = await listen(0);
  return {
    port,
    killAll,
    freeze() {
      frozen = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream?.pause();
      }
    },
    resume,
    stop: stopListening,
    start,
    async restart(downMs = 100) {
      await stopListening();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async close() {
      resume();
      await stopListening();
    },
  };
}
