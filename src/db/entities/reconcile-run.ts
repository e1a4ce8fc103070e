import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { ReconcileOutcome, ReconcileTrigger } from '../../domain/reconciliation';

/**
 * `reconcile_runs`: one row per reconciliation run. outcome stays NULL while the run is in
 * progress (or when the process died during it). broker_requests counts the reconciler's own
 * broker calls, pages included.
 */
export const ReconcileRunEntity = defineEntity({
  name: 'ReconcileRun',
  tableName: 'reconcile_runs',
  properties: {
    id: p.integer().primary().autoincrement(),
    startedAt: p.datetime(),
    finishedAt: p.datetime().nullable(),
    outcome: p.string().$type<ReconcileOutcome>().length(16).nullable(),
    trigger: p.string().$type<ReconcileTrigger>().length(16),
    symbolsChecked: p.integer(),
    ordersChecked: p.integer(),
    openDiscrepancies: p.integer(),
    newDiscrepancies: p.integer(),
    resolvedDiscrepancies: p.integer(),
    ordersRepaired: p.integer(),
    ordersAdopted: p.integer(),
    ordersExternal: p.integer(),
    brokerRequests: p.integer(),
    error: p.text().nullable(),
  },
});

export type ReconcileRunRecord = InferEntity<typeof ReconcileRunEntity>;
