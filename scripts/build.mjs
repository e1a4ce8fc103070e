// Compiles the app to plain JavaScript once per change of its sources, so `npm start` runs `node`
// rather than transforming TypeScript at every start. Run by `npm ci` (prepare) and, when the
// sources changed since, by `npm start` itself.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
/** What the compiled app is made of: a change to any of these makes a new build. */
const SOURCES = ['src', 'migrations', 'package.json', 'package-lock.json', 'tsconfig.json'];
/** The programs `npm start`, `npm run migrate` and `npm run api-key` run. */
export const ENTRIES = { main: 'src/main.ts', migrate: 'src/db/migrate-cli.ts', 'api-key': 'src/api-key-cli.ts' };
const COMPLETE = '.complete';

async function filesUnder(path) {
  if (!existsSync(path)) return [];
  const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => null);
  if (entries === null) return [path];
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A hash of every source file's path and content: cheap (a few ms) and immune to clock skew, unlike mtimes. */
export async function sourceHash() {
  const files = (await Promise.all(SOURCES.map((s) => filesUnder(join(ROOT, s))))).flat().sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(ROOT, file));
    hash.update('\0');
    hash.update(await readFile(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The directory holding the build for the current sources, building it first if needed. Builds go
 * to a temporary directory renamed into place, so two starts at once never see half a build.
 */
export async function ensureBuilt() {
  const target = join(DIST, `build-${await sourceHash()}`);
  if (existsSync(join(target, COMPLETE))) return target;
  const { build } = await import('esbuild');
  const temp = join(DIST, `tmp-${process.pid}-${Date.now()}`);
  await mkdir(temp, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir: temp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies stay in node_modules: native modules and pino's worker files can't be bundled.
    packages: 'external',
    sourcemap: true,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  await writeFile(join(temp, COMPLETE), '');
  try {
    await rename(temp, target);
  } catch {
    // Another start built the same sources first: use its build.
    await rm(temp, { recursive: true, force: true });
  }
  // Builds of older sources: nothing loads them lazily, so even a process still running one is unaffected.
  for (const old of await readdir(DIST)) {
    if (old.startsWith('build-') && join(DIST, old) !== target) {
      await rm(join(DIST, old), { recursive: true, force: true });
    }
  }
  return target;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = await ensureBuilt();
  console.log(`built ${relative(ROOT, dir)}`);
}
