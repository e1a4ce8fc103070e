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

/**
 * Every migration, in the order they apply. Listed explicitly rather than globbed from the folder
 * so tsx, vitest and compiled code all load exactly the same set. Names are recorded in the
 * database: never rename one that has shipped.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20251124000000_initial_schema', class: Migration20251124000000InitialSchema },
  {
    name: 'Migration20251125000000_positions_and_user_preferences',
    class: Migration20251125000000PositionsAndUserPreferences,
  },
  { name: 'Migration20251126000000_reconciliation', class: Migration20251126000000Reconciliation },
  { name: 'Migration20251201000000_order_safety', class: Migration20251201000000OrderSafety },
  { name: 'Migration20251202000000_normalize_portfolio_names', class: Migration20251202000000NormalizePortfolioNames },
  { name: 'Migration20251203000000_http_api', class: Migration20251203000000HttpApi },
  { name: 'Migration20251204000000_approvals', class: Migration20251204000000Approvals },
  { name: 'Migration20251205000000_trader_pnl', class: Migration20251205000000TraderPnl },
  { name: 'Migration20251206000000_digest', class: Migration20251206000000Digest },
];
