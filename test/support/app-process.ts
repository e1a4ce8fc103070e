import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The arguments for `node` that run a program exactly as `npm start`, `npm run migrate` and
 * `npm run api-key` do: the compiled build, made first when the sources changed.
 */
export function programArgs(program: 'main' | 'migrate' | 'api-key', ...args: string[]): string[] {
  return [join(REPO_ROOT, 'scripts', 'start.mjs'), program, ...args];
}

/**
 * A fresh working directory for a child process: it holds no `.env`, so a developer's own `.env`
 * (the quick start makes one) never reaches a test, and a default SQLite file lands there too.
 */
export function isolatedWorkingDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'slack-oms-cwd-'));
}
