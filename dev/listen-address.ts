import { createServer } from 'node:net';

/** A reason the dev server cannot listen, in one line that says what to do. */
export class ListenError extends Error {}

export function listenProblem(error: NodeJS.ErrnoException, hostname: string, port: number): ListenError {
  const next = port === 0 ? 8787 : port + 1;
  switch (error.code) {
    case 'EADDRINUSE':
      return new ListenError(`port ${port} on ${hostname} is already in use (another npm run dev?): stop that process, or pick another port, e.g. PORT=${next} npm run dev`);
    case 'EACCES':
      return new ListenError(`no permission to listen on port ${port}: pick one from 1024 up, e.g. PORT=8787 npm run dev`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new ListenError(`${hostname} is not an address of this machine: set HOST to one (default 127.0.0.1)`);
    default:
      return new ListenError(`cannot listen on ${hostname}:${port}: ${error.message}`);
  }
}

/**
 * HOST and PORT as `npm run dev` uses them (PORT=0 picks a free port), checked before the embedded
 * database is opened: a taken port (typically another `npm run dev`, holding the same database)
 * fails fast, with one line that says what to do.
 */
export async function listenAddress(env: NodeJS.ProcessEnv): Promise<{ hostname: string; port: number }> {
  const hostname = env.HOST || '127.0.0.1';
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ListenError(`PORT=${env.PORT} is not a port number: use one from 1024 to 65535, e.g. PORT=8788 npm run dev`);
  }
  if (port !== 0) {
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', (error: NodeJS.ErrnoException) => reject(listenProblem(error, hostname, port)));
      probe.listen(port, hostname, () => probe.close(() => resolve()));
    });
  }
  return { hostname, port };
}
