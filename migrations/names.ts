/**
 * Every migration's name, in the order they apply, kept apart from the migrations themselves so a
 * start-up can see the schema is up to date without loading the migrator. Names are recorded in
 * the database: never rename one that has shipped.
 */
export const MIGRATION_NAMES = [
  'Migration20251124000000_initial_schema',
  'Migration20251125000000_positions_and_user_preferences',
  'Migration20251126000000_reconciliation',
  'Migration20251201000000_order_safety',
  'Migration20251202000000_normalize_portfolio_names',
  'Migration20251203000000_http_api',
  'Migration20251204000000_approvals',
  'Migration20251205000000_trader_pnl',
  'Migration20251206000000_digest',
] as const;

export type MigrationName = (typeof MIGRATION_NAMES)[number];
