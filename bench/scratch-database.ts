import pg from 'pg';

/** A database of a bench section's own on the server: created empty (dropped first if a run left it), dropped at the end. */
export interface ScratchDatabase {
  url: string;
  /** Drops it and creates it empty again. */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

export async function scratchDatabase(serverUrl: string, name: string): Promise<ScratchDatabase> {
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  const drop = () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const reset = async () => {
    await drop();
    await admin(`CREATE DATABASE ${name}`);
  };
  await reset();
  return { url: Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString(), reset, drop };
}
