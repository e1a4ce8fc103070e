import { ensureBuilt } from '../../scripts/build.mjs';

/** Builds the app once before any test file spawns it, rather than in several files at once. */
export default async function setup(): Promise<void> {
  await ensureBuilt();
}
