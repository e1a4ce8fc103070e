import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { initORM } from '../../src/db/orm';
import { isolatedWorkingDirectory, programArgs } from '../support/app-process';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';

const run = promisify(execFile);

/** Runs `npm run migrate`'s program with only DATABASE_URL set and no `.env`. */
async function migrateCli(databaseUrl: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, programArgs('migrate'), {
      cwd: isolatedWorkingDirectory(),
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl },
      timeout: 30_000,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const failure = err as { stdout: string; stderr: string; code: number };
    return { stdout: failure.stdout, stderr: failure.stderr, code: failure.code };
  }
}

const databaseUrlOf = (db: TestDatabase) => (db.target.kind === 'sqlite' ? `sqlite:${db.target.url}` : db.target.url);

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`npm run migrate on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase | undefined;
    afterEach(async () => {
      await db?.drop();
      db = undefined;
    });

    it(
      'applies the migrations, says which, ' + 'and then says it is up to date — without Slack or Alpaca settings',
      async () => {
        db = await kind.create();
        const first = await migrateCli(databaseUrlOf(db));
        expect(first.code, first.stderr).toBe(0);
        for (const { name } of MIGRATIONS) expect(first.stdout).toContain(name);

        const again = await migrateCli(databaseUrlOf(db));
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/already up to date/);

        const orm = await initORM(db.target);
        try {
          expect((await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false })).trim()).toBe('');
        } finally {
          await orm.close(true);
        }
      },
    );
  });
}

describe('npm run migrate with a bad DATABASE_URL', () => {
  it('exits non-zero naming the variable', async () => {
    const result = await migrateCli('mysql://root@localhost/oms');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('DATABASE_URL');
  });
});
