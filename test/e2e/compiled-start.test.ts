import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../scripts/build.mjs';
import { isolatedWorkingDirectory, programArgs } from '../support/app-process';

const run = promisify(execFile);

/** `npm run migrate`'s program, on a SQLite file of its own: the smallest program the build holds. */
async function migrate(databaseFile: string): Promise<string> {
  const { stdout } = await run(process.execPath, programArgs('migrate'), {
    cwd: isolatedWorkingDirectory(),
    env: { PATH: process.env.PATH, DATABASE_URL: `sqlite:${databaseFile}` },
    timeout: 30_000,
  });
  return stdout;
}

describe('the compiled start', () => {
  it("keeps V8's code cache beside the program: written by a first run, used by the next, rewritten when V8 rejects it", async () => {
    const cache = join(await ensureBuilt(), 'migrate.cjs.v8-cache');
    const database = join(isolatedWorkingDirectory(), 'oms.sqlite');
    await rm(cache, { force: true });

    expect(await migrate(database)).toMatch(/applied \d+ migration/);
    expect(existsSync(cache)).toBe(true);
    const written = await stat(cache);

    // A cache V8 accepts is left as it is.
    expect(await migrate(database)).toMatch(/already up to date/);
    expect((await stat(cache)).mtimeMs).toBe(written.mtimeMs);

    // One it rejects (another Node version, other flags, a damaged file) costs a slower start, then is replaced.
    await writeFile(cache, Buffer.from('not a code cache'));
    expect(await migrate(database)).toMatch(/already up to date/);
    expect((await readFile(cache)).toString()).not.toBe('not a code cache');
  });
});
