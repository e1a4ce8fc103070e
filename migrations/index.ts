import type { MigrationObject } from '@mikro-orm/core';
import { Migration20251124000000InitialSchema } from './Migration20251124000000_initial_schema';
// biome-ignore format: Biome never wraps a one-name import, and this one is longer than the line limit.
import {
  Migration20251125000000PositionsAndUserPreferences,
} from './Migration20251125000000_positions_and_user_preferences';
import { Migration20251126000000Reconciliation } from './Migration20251126000000_reconciliation';
import { Migration20251201000000OrderSafety } from './Migration20251201000000_order_safety';
import { Migration20251202000000NormalizePortfolioNames } from './Migration20251202000000_normalize_portfolio_names';
import { Migration20251203000000HttpApi } from './Migration20251203000000_http_api';
import { Migration20251204000000Approvals } from './Migration20251204000000_approvals';
import { Migration20251205000000TraderPnl } from './Migration20251205000000_trader_pnl';
import { Migration20251206000000Digest } from './Migration20251206000000_digest';
import { MIGRATION_NAMES, type MigrationName } from './names';

/**
 * Every migration, in the order MIGRATION_NAMES gives. Listed explicitly rather than globbed from
 * the folder so tsx, vitest and compiled code all load exactly the same set; the type makes a
 * migration missing from either list a compile error.
 */
const CLASSES = {
  Migration20251124000000_initial_schema: Migration20251124000000InitialSchema,
  Migration20251125000000_positions_and_user_preferences: Migration20251125000000PositionsAndUserPreferences,
  Migration20251126000000_reconciliation: Migration20251126000000Reconciliation,
  Migration20251201000000_order_safety: Migration20251201000000OrderSafety,
  Migration20251202000000_normalize_portfolio_names: Migration20251202000000NormalizePortfolioNames,
  Migration20251203000000_http_api: Migration20251203000000HttpApi,
  Migration20251204000000_approvals: Migration20251204000000Approvals,
  Migration20251205000000_trader_pnl: Migration20251205000000TraderPnl,
  Migration20251206000000_digest: Migration20251206000000Digest,
} satisfies Record<MigrationName, MigrationObject['class']>;

export const MIGRATIONS: MigrationObject[] = MIGRATION_NAMES.map((name) => ({ name, class: CLASSES[name] }));
