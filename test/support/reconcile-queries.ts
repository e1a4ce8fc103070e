import { BookAdjustmentEntity, DiscrepancyEntity, ReconcileRunEntity } from '../../src/db/entities';
import type { Orm } from '../../src/db/orm';
import { ReconcileRepository } from '../../src/db/repositories/reconcile-repository';
import type { BookAdjustment, ReconcileRun, StoredDiscrepancy } from '../../src/domain/reconciliation';

/**
 * The app's reconcile repository plus the look-ups only tests make (the app never lists runs or
 * adjustments, nor finds a finding by key). Rows are read through the repository's own finders,
 * so tests see them exactly as the app does.
 */
export class ReconcileQueries extends ReconcileRepository {
  constructor(
    private readonly db: Orm,
    now?: () => Date,
  ) {
    super(db, now);
  }

  /** Newest first. */
  async latestRuns(limit: number): Promise<ReconcileRun[]> {
    const rows = await this.db.em
      .fork()
      .find(ReconcileRunEntity, {}, { orderBy: { id: 'desc' }, limit, fields: ['id'] });
    const runs = await Promise.all(rows.map((row) => this.findRun(row.id)));
    return runs.filter((run): run is ReconcileRun => run !== null);
  }

  async findDiscrepancyByKey(key: string): Promise<StoredDiscrepancy | null> {
    const row = await this.db.em.fork().findOne(DiscrepancyEntity, { key }, { fields: ['id'] });
    return row ? this.findDiscrepancy(row.id) : null;
  }

  /** In the order they were booked. */
  async listAdjustments(): Promise<BookAdjustment[]> {
    const rows = await this.db.em.fork().find(BookAdjustmentEntity, {}, { orderBy: { id: 'asc' }, fields: ['id'] });
    const adjustments = await Promise.all(rows.map((row) => this.findAdjustment(row.id)));
    return adjustments.filter((adjustment): adjustment is BookAdjustment => adjustment !== null);
  }

  async countOpen(): Promise<number> {
    return this.db.em.fork().count(DiscrepancyEntity, { resolvedAt: null });
  }
}
