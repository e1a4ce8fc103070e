// Compiles the app to plain JavaScript once per change of its sources, so `npm start` runs `node`
// rather than transforming TypeScript at every start. Run by `npm ci` (prepare) and, when the
// sources changed since, by `npm start` itself.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
/** What the compiled app is made of: a change to any of these makes a new build. */
const SOURCES = ['src', 'migrations', 'scripts/build.mjs', 'package.json', 'package-lock.json', 'tsconfig.json'];
/** The programs `npm start`, `npm run migrate` and `npm run api-key` run. */
export const ENTRIES = { main: 'src/main.ts', migrate: 'src/db/migrate-cli.ts', 'api-key': 'src/api-key-cli.ts' };
const COMPLETE = '.complete';
/** An older build is removed only once it is this old: a start that just chose it may not have loaded it yet. */
const KEEP_RECENT_BUILD_MS = 60_000;

async function filesUnder(path) {
  if (!existsSync(path)) return [];
  const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => null);
  if (entries === null) return [path];
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A hash of every source file's path and content: cheap (a few ms) and immune to clock skew, unlike mtimes. */
async function sourceHash() {
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
  try {
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
    await rename(temp, target).catch((err) => {
      // Another start built the same sources first: use its build.
      if (!existsSync(join(target, COMPLETE))) throw err;
    });
  } catch (err) {
    if (err?.code === 'EACCES' || err?.code === 'EROFS' || err?.code === 'EPERM') {
      throw new Error(
        `The sources changed since the last build and ${DIST} is not writable here (${err.code}): ` +
          'run `npm run build` as the owner of the checkout, then start again.',
      );
    }
    throw err;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  await removeOldBuilds(target);
  return target;
}

/** Builds of older sources (and temporaries a killed build left); nothing loads a build lazily once started. */
async function removeOldBuilds(current) {
  for (const name of await readdir(DIST)) {
    const path = join(DIST, name);
    if (path === current || !(name.startsWith('build-') || name.startsWith('tmp-'))) continue;
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > KEEP_RECENT_BUILD_MS) await rm(path, { recursive: true, force: true });
  }
}

// Node resolves symlinks for the module's own URL but not in argv[1] (a release directory is often a symlink).
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const dir = await ensureBuilt();
  console.log(`built ${relative(ROOT, dir)}`);
}
