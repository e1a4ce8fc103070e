// `npm start` (and `npm run migrate`, `npm run api-key`): runs the compiled program, compiling it
// first only when the sources changed since the last build.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENTRIES, ensureBuilt } from './build.mjs';

const [entry = 'main', ...args] = process.argv.slice(2);
if (!Object.hasOwn(ENTRIES, entry)) {
  console.error(`Unknown program "${entry}"; one of: ${Object.keys(ENTRIES).join(', ')}.`);
  process.exit(2);
}
// The program reads its own arguments from process.argv.slice(2).
process.argv.splice(2, process.argv.length, ...args);
process.setSourceMapsEnabled(true);
const dir = await ensureBuilt().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
await import(pathToFileURL(join(dir, `${entry}.mjs`)).href);
