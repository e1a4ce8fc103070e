import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client';
import { isolatedWorkingDirectory, programArgs } from '../support/app-process';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';

const run = promisify(execFile);

/** Runs `npm run api-key -- …`'s program with only DATABASE_URL set and no `.env`. */
async function apiKeyCli(
  databaseUrl: string,
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, programArgs('api-key', ...args), {
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

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`npm run api-key on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let databaseUrl: string;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target });
      databaseUrl = t.env.DATABASE_URL!;
    });
    afterAll(async () => {
      await t?.stop();
      await db?.drop();
    });

    it('creates a key shown once that the API accepts, lists it with its last use, and revokes it', async () => {
      const created = await apiKeyCli(databaseUrl, 'create', 'nightly', 'export');
      expect(created.code, created.stderr).toBe(0);
      const key = /^\s+(oms_\w+_[\w-]+)$/m.exec(created.stdout)?.[1];
      const prefix = /prefix (\w+)/.exec(created.stdout)?.[1];
      expect(key, created.stdout).toBeDefined();
      expect(created.stdout).toContain('shown this once');

      const client = new ApiClient(t.baseUrl, key);
      expect((await client.get('/api/v1/portfolios')).status).toBe(200);

      const listed = await apiKeyCli(databaseUrl, 'list');
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(
        new RegExp(`^${prefix}  nightly export  created \\S+, last used \\S+, active$`, 'm'),
      );
      expect(listed.stdout).not.toContain(key!);

      const revoked = await apiKeyCli(databaseUrl, 'revoke', prefix!);
      expect(revoked.code).toBe(0);
      expect((await client.get('/api/v1/portfolios')).status).toBe(401);
      expect((await apiKeyCli(databaseUrl, 'list')).stdout).toMatch(new RegExp(`^${prefix}  .*, revoked \\S+$`, 'm'));

      const again = await apiKeyCli(databaseUrl, 'revoke', prefix!);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`No active key has the prefix "${prefix}"`);
    });

    it('explains its usage and needs a name', async () => {
      const usage = await apiKeyCli(databaseUrl, 'rotate');
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('Usage: npm run api-key -- create <name> | list | revoke <prefix>');
      const nameless = await apiKeyCli(databaseUrl, 'create');
      expect(nameless.code).toBe(2);
      expect(nameless.stderr).toMatch(/Give the key a name/);
    });
  });
}
