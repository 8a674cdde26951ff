/** `npm run migrate`: applies pending migrations over DATABASE_URL_UNPOOLED (or DATABASE_URL). */
import { databaseOptionsFromEnv, openDatabase } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';

const database = await openDatabase(databaseOptionsFromEnv(process.env, 'migrate'));
try {
  const { applied } = await migrateToLatest(database.db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: the schema is up to date');
} finally {
  await database.close();
}
