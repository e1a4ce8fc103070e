// Compiles the app to plain JavaScript once per change of its sources, so `npm start` runs `node`
// rather than transforming TypeScript at every start. Run by `npm ci` (prepare) and, when the
// sources changed since, by `npm start` itself.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
/** What the compiled app is made of: a change to any of these makes a new build. */
const SOURCES = ['src', 'migrations', 'scripts/build.mjs', 'package.json', 'package-lock.json', 'tsconfig.json'];
/** The programs `npm start`, `npm run migrate` and `npm run api-key` run. */
export const ENTRIES = { main: 'src/main.ts', migrate: 'src/db/migrate-cli.ts', 'api-key': 'src/api-key-cli.ts' };
const COMPLETE = '.complete';
/**
 * Left in node_modules: native addons (better-sqlite3, resvg), packages that read files next to
 * their own code (swagger-ui's static pages), and the drivers knex and MikroORM load only when
 * configured, which this app never installs.
 */
const EXTERNAL = [
  'better-sqlite3',
  '@resvg/resvg-js',
  '@fastify/swagger-ui',
  'pino-pretty',
  'pg-native',
  'pg-query-stream',
  'sqlite3',
  'mysql',
  'mysql2',
  'mariadb',
  'oracledb',
  'tedious',
  'libsql',
  '@mikro-orm/entity-generator',
  '@mikro-orm/libsql',
  '@mikro-orm/mariadb',
  '@mikro-orm/mongodb',
  '@mikro-orm/mssql',
  '@mikro-orm/mysql',
  '@mikro-orm/reflection',
  '@mikro-orm/seeder',
  '@mikro-orm/sqlite',
  'ts-morph',
];
/** An older build is removed only once it is this old: a start that just chose it may not have loaded it yet. */
const KEEP_RECENT_BUILD_MS = 60_000;

function filesUnder(path) {
  if (!existsSync(path)) return [];
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true, recursive: true });
  } catch {
    return [path];
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * A hash of every source file's path and content: immune to clock skew, unlike mtimes, and read
 * synchronously because every start pays for it (a few ms; with a promise per file, ten times that).
 */
function sourceHash() {
  const files = SOURCES.flatMap((s) => filesUnder(join(ROOT, s))).sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(ROOT, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The directory holding the build for the current sources, building it first if needed. Builds go
 * to a temporary directory renamed into place, so two starts at once never see half a build.
 */
export async function ensureBuilt() {
  const target = join(DIST, `build-${sourceHash()}`);
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
      // One CommonJS file per program, dependencies included: Node 20 then resolves, reads and
      // lexes one file instead of some two thousand, and start.mjs can keep V8's code cache for it.
      format: 'cjs',
      target: 'node20',
      external: EXTERNAL,
      // Smaller to read and to keep in memory (V8 holds a program's source); names stay, since
      // libraries (MikroORM among them) read class and function names at run time.
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      // Licence comments go to a file beside the program, which stays ASCII: one byte a character in V8.
      legalComments: 'linked',
      define: { 'import.meta.url': 'importMetaUrl' },
      banner: { js: 'const importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
      outExtension: { '.js': '.cjs' },
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
