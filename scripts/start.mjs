// `npm start` (and `npm run migrate`, `npm run api-key`): runs the compiled program, compiling it
// first only when the sources changed since the last build.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import { ENTRIES, ensureBuilt } from './build.mjs';

/** When the first run writes the code cache: after start-up and the first requests have compiled their code. */
const CODE_CACHE_AFTER_MS = 5_000;

const [entry = 'main', ...args] = process.argv.slice(2);
if (!Object.hasOwn(ENTRIES, entry)) {
  console.error(`Unknown program "${entry}"; one of: ${Object.keys(ENTRIES).join(', ')}.`);
  process.exit(2);
}
// The program reads its own arguments from process.argv.slice(2).
process.argv.splice(2, process.argv.length, ...args);
const dir = await ensureBuilt().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
runWithCodeCache(join(dir, `${entry}.cjs`));

/**
 * Runs a CommonJS program as `require` would, but keeps V8's compiled code beside it: Node 20 has
 * no compile cache of its own, and compiling the bundle is most of a start. The first run writes
 * the cache (a few seconds in, and at exit); later runs start from it and never write it. V8 checks
 * the cache against the source and its own version and flags, and a rejected cache is written again.
 */
function runWithCodeCache(file) {
  const cacheFile = `${file}.v8-cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // Read straight into a string (no Buffer left for the garbage collector); V8 keeps an ASCII
  // program, which the build makes, at one byte a character.
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    const write = () => {
      const temp = `${cacheFile}.${process.pid}`;
      try {
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, cacheFile);
      } catch {
        // A read-only install starts without the cache: slower, never broken.
      }
    };
    // Written early, so even a run that is killed leaves one, and again at exit, when it also holds
    // what the run compiled since (the order path among it), so later first orders skip compiling too.
    setTimeout(write, CODE_CACHE_AFTER_MS).unref();
    process.once('exit', write);
  }
  const module = new Module(file);
  module.filename = file;
  module.paths = Module._nodeModulePaths(dirname(file));
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dirname(file));
}
