import { ConfigError, readDatabaseTarget } from '../config';
import { databaseLabel, initORM, migrateToLatest } from './orm';

/** `npm run migrate`: brings the configured database up to date and says what it did. Needs only DATABASE_URL. */
async function migrate(): Promise<void> {
  let target;
  try {
    target = readDatabaseTarget();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const orm = await initORM(target);
  try {
    const applied = await migrateToLatest(orm);
    const label = databaseLabel(target);
    process.stdout.write(
      applied.length === 0
        ? `${label}: already up to date.\n`
        : `${label}: applied ${applied.length} migration(s):\n${applied.map((name) => `  ${name}\n`).join('')}`,
    );
  } finally {
    await orm.close();
  }
}

migrate().catch((err: unknown) => {
  process.stderr.write(`Migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
