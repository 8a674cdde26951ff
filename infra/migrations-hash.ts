import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A digest of every migration file: when it changes, CloudFormation runs the migrations again. */
export function migrationsHash(directory: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(directory).filter((n) => n.endsWith('.ts')).sort()) {
    hash.update(name).update('\0').update(readFileSync(join(directory, name))).update('\0');
  }
  return hash.digest('hex');
}
