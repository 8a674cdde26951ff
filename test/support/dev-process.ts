import { spawn, type ChildProcess } from 'node:child_process';

/** `npm run dev` as a child process (dev/server.ts), on a free port. */
export interface DevProcess {
  process: ChildProcess;
  url: string;
  output: string[];
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startDevProcess(env: Record<string, string>): Promise<DevProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/server.ts'], {
    env: { ...process.env, PORT: '0', DATABASE_URL: '', NODE_ENV: 'development', LOG_LEVEL: 'ERROR', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev server did not start:\n${output.join('')}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = /listening on (http:\/\/\S+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`dev server exited (${code}):\n${output.join('')}`)));
  });
  return {
    process: child,
    url,
    output,
    stop: () => {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
