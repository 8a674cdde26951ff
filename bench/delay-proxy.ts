import { connect, createServer, type Socket } from 'node:net';

export interface DelayProxy {
  /** The port on 127.0.0.1 to connect to instead of the target. */
  port: number;
  /** The simulated round-trip time: each chunk waits half of it, in each direction. Change it only while idle. */
  rttMs: number;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on 127.0.0.1 that simulates network latency: every chunk is held for
 * rttMs / 2 before it is passed on, in each direction, and chunks keep their order. Connection
 * setup itself is not delayed (only what flows over it), so a cold connection's cost shows in
 * its protocol exchanges, not in the TCP handshake.
 */
export async function startDelayProxy(target: { host: string; port: number }, rttMs = 0): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const proxy = { rttMs };

  const forward = (from: Socket, to: Socket) => {
    const held: Array<{ due: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const release = () => {
      timer = undefined;
      while (held.length && held[0]!.due <= performance.now()) to.write(held.shift()!.chunk);
      if (held.length) timer = setTimeout(release, held[0]!.due - performance.now());
    };
    from.on('data', (chunk) => {
      const delay = proxy.rttMs / 2;
      if (delay <= 0 && held.length === 0) return void to.write(chunk);
      held.push({ due: performance.now() + delay, chunk });
      timer ??= setTimeout(release, delay);
    });
    from.on('end', () => {
      const finish = () => (held.length || timer ? setTimeout(finish, proxy.rttMs / 2) : to.end());
      finish();
    });
  };

  const server = createServer((client) => {
    const upstream = connect(target);
    for (const socket of [client, upstream]) {
      // No Nagle: a held-back small write would otherwise add its own delay on top of ours.
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => socket.destroy());
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return Object.assign(proxy, {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
