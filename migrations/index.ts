import type { MigrationObject } from '@mikro-orm/core';
import { Migration20251124000000InitialSchema } from './Migration20251124000000_initial_schema';

/**
 * Every migration, in the order they apply. Listed explicitly rather than globbed from the folder
 * so tsx, vitest and compiled code all load exactly the same set. Names are recorded in the
 * database: never rename one that has shipped.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20251124000000_initial_schema', class: Migration20251124000000InitialSchema },
];
