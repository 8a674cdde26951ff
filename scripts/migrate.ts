/** `npm run migrate`: applies pending migrations over DATABASE_URL_UNPOOLED (or DATABASE_URL), naming the database first. */
import { openDatabase, type DatabaseOptions } from '../shared/db/connect.js';
import { migrateUnlessAhead } from '../shared/db/migrate.js';
import { describeTarget, migrationTarget, TargetError } from './migration-target.js';

const target = targetOrExit();
console.log(`migrating ${describeTarget(target)}`);
const database = await openDatabase(target);
try {
  const outcome = await migrateUnlessAhead(database.db);
  if (outcome.status === 'ahead') {
    console.log(`nothing applied: the database is ahead of this code (it has ${outcome.unknown.join(', ')}, which this code does not know)`);
  } else {
    console.log(outcome.applied.length ? `applied: ${outcome.applied.join(', ')}` : 'nothing to apply: the schema is up to date');
  }
} finally {
  await database.close();
}

function targetOrExit(): DatabaseOptions {
  try {
    return migrationTarget(process.env);
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    process.stderr.write(`npm run migrate: ${error.message}\n`);
    return process.exit(1);
  }
}
