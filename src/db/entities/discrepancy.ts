import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { DiscrepancyKind } from '../../domain/reconciliation';
import { ReconcileRunEntity } from './reconcile-run';

/**
 * `discrepancies`: what reconciliation found, one row per key (`position:AAPL`,
 * `adopted:oms-…`, `external:<order id>`…), so a finding seen again updates its row instead of
 * alerting twice. Position rows stay open until a run sees books and broker agree; order
 * findings are reports and are stored resolved. details is JSON (per-portfolio breakdown, order
 * facts). The Slack message an alert lives in is kept here, so a restart updates it in place.
 */
export const DiscrepancyEntity = defineEntity({
  name: 'Discrepancy',
  tableName: 'discrepancies',
  properties: {
    id: p.integer().primary().autoincrement(),
    key: p.string().length(160).unique(),
    kind: p.string().$type<DiscrepancyKind>().length(32),
    symbol: p.string().length(32),
    details: p.text(),
    booksQty: p.decimal().precision(24).scale(9).nullable(),
    brokerQty: p.decimal().precision(24).scale(9).nullable(),
    difference: p.decimal().precision(24).scale(9).nullable(),
    firstSeenAt: p.datetime(),
    lastSeenAt: p.datetime(),
    resolvedAt: p.datetime().nullable().index(),
    acknowledgedBy: p.string().length(255).nullable(),
    acknowledgedAt: p.datetime().nullable(),
    slackChannelId: p.string().length(32).nullable(),
    slackMessageTs: p.string().length(32).nullable(),
    lastRun: p.manyToOne(ReconcileRunEntity).nullable().mapToPk().deleteRule('set null').index(),
  },
  indexes: [{ properties: ['slackChannelId', 'slackMessageTs'] }],
});

export type DiscrepancyRecord = InferEntity<typeof DiscrepancyEntity>;
