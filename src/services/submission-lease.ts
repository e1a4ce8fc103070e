import type { TradeRepository } from '../db/repositories/trade-repository';
import type { Trade } from '../domain/trade';
import { isDeadLocalInstance } from '../lifecycle';

/** A submission holds its order's lease this long past its last renewal; it renews at a quarter of that. */
const SUBMIT_LEASE_MS = 20_000;

/**
 * The right to send one order to the broker (or to declare it not placed), held by one instance
 * at a time: the small core shared by submission and settlement. A lease left by a crashed
 * process on this host is taken over at once instead of being waited out.
 */
export class SubmissionLeases {
  readonly leaseMs: number;

  constructor(
    private readonly trades: TradeRepository,
    /** This process, as the owner of the leases it takes. */
    readonly owner: string,
    private readonly now: () => Date,
    leaseMs = SUBMIT_LEASE_MS,
  ) {
    this.leaseMs = leaseMs;
  }

  /** The row, leased to this instance; undefined when another live holder has it (or the order moved on). */
  async take(tradeId: number): Promise<Trade | undefined> {
    const leased = await this.trades.acquireSubmitLease(tradeId, this.owner, this.until());
    if (leased) return leased;
    const holder = (await this.trades.findById(tradeId))?.submitLeaseOwner;
    return holder && isDeadLocalInstance(holder)
      ? this.trades.acquireSubmitLease(tradeId, this.owner, this.until(), holder)
      : undefined;
  }

  /** False once the lease was lost (expired and taken, or the order moved on). */
  renew(tradeId: number): Promise<boolean> {
    return this.trades.renewSubmitLease(tradeId, this.owner, this.until());
  }

  async release<T extends Pick<Trade, 'id'>>(trade: T): Promise<T> {
    await this.trades.releaseSubmitLease(trade.id, this.owner);
    return trade;
  }

  /** True while someone (this instance or another) is sending the row: other passes leave it alone. */
  isLive(trade: Trade): boolean {
    if (!trade.submitLeaseUntil || trade.submitLeaseUntil.getTime() <= this.now().getTime()) return false;
    return !(trade.submitLeaseOwner && isDeadLocalInstance(trade.submitLeaseOwner));
  }

  until(): Date {
    return new Date(this.now().getTime() + this.leaseMs);
  }
}
