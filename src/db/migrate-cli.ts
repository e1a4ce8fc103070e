import { readDatabaseTarget, readOrExit } from '../config';
import { describeError } from '../domain/errors';
import { databaseLabel, initORM, migrateToLatest } from './orm';

/** `npm run migrate`: brings the configured database up to date and says what it did. Needs only DATABASE_URL. */
async function migrate(): Promise<void> {
  const target = readOrExit(readDatabaseTarget);
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
  process.stderr.write(`Migration failed: ${describeError(err)}\n`);
  process.exit(1);
});
