import { type Dec, dec } from './money';
import { isTerminal, type Side, type TradeStatus, tradeStatusFromBroker } from './order';
import { normalizePortfolioName, portfolioNameKey } from './portfolio-name';

/**
 * The reconciliation diff, without I/O: books (filled quantity per portfolio and symbol) against
 * the broker's positions, and the broker's recent orders against the order rows in the books.
 * The service feeds it what it read; it answers what disagrees and what to do about it.
 */

/** Position findings stay open until books and broker agree again. */
export type PositionDiscrepancyKind = 'quantity_mismatch' | 'broker_only' | 'books_only';
/** Order findings are reports of something the reconciler did or saw once. */
export type OrderFindingKind = 'order_adopted' | 'order_repaired' | 'order_external';
export type DiscrepancyKind = PositionDiscrepancyKind | OrderFindingKind;

export const POSITION_KINDS: readonly PositionDiscrepancyKind[] = ['quantity_mismatch', 'broker_only', 'books_only'];

export function isPositionKind(kind: DiscrepancyKind): kind is PositionDiscrepancyKind {
  return (POSITION_KINDS as readonly string[]).includes(kind);
}

/** Every order this app sends carries this prefix (see clientOrderIdForView); anything else was placed elsewhere. */
export const OUR_CLIENT_ORDER_ID_PREFIX = 'oms-';

export function isOurClientOrderId(clientOrderId: string): boolean {
  return clientOrderId.startsWith(OUR_CLIENT_ORDER_ID_PREFIX);
}

/** Decimal places quantities are compared at (the books keep nine). */
const QTY_PLACES = 9;

/** What one portfolio's fills add up to for one symbol; several spellings of one portfolio may appear. */
export interface BookHolding {
  portfolioName: string;
  symbol: string;
  qty: Dec;
}

export interface BrokerHolding {
  symbol: string;
  qty: Dec;
}

export interface PortfolioShare {
  portfolioName: string;
  qty: Dec;
}

export interface PositionDiscrepancy {
  key: string;
  kind: PositionDiscrepancyKind;
  symbol: string;
  booksQty: Dec;
  brokerQty: Dec;
  /** broker − books: what the books would have to add to match. */
  difference: Dec;
  /** Non-zero holdings per portfolio, largest first. */
  breakdown: PortfolioShare[];
}

export function positionKey(symbol: string): string {
  return `position:${symbol}`;
}

function bookTotals(books: readonly BookHolding[]): Map<string, { total: Dec; shares: Map<string, PortfolioShare> }> {
  const bySymbol = new Map<string, { total: Dec; shares: Map<string, PortfolioShare> }>();
  for (const holding of books) {
    const entry = bySymbol.get(holding.symbol) ?? { total: dec(0), shares: new Map<string, PortfolioShare>() };
    entry.total = entry.total.plus(holding.qty);
    const key = portfolioNameKey(holding.portfolioName);
    const share = entry.shares.get(key);
    entry.shares.set(key, {
      portfolioName: share?.portfolioName ?? normalizePortfolioName(holding.portfolioName),
      qty: (share?.qty ?? dec(0)).plus(holding.qty),
    });
    bySymbol.set(holding.symbol, entry);
  }
  return bySymbol;
}

function sortedBreakdown(shares: Iterable<PortfolioShare>): PortfolioShare[] {
  return [...shares]
    .map((s) => ({ portfolioName: s.portfolioName, qty: s.qty.toDecimalPlaces(QTY_PLACES) }))
    .filter((s) => !s.qty.isZero())
    .sort((a, b) => b.qty.abs().comparedTo(a.qty.abs()) || a.portfolioName.localeCompare(b.portfolioName));
}

/**
 * Per symbol, the books' total over every portfolio against the broker's position. Symbols in
 * `skip` (orders still moving) are left out. Returns the disagreements, ordered by symbol.
 */
export function comparePositions(
  books: readonly BookHolding[],
  broker: readonly BrokerHolding[],
  skip: ReadonlySet<string> = new Set(),
): { discrepancies: PositionDiscrepancy[]; symbolsCompared: number } {
  const totals = bookTotals(books);
  const brokerQty = new Map<string, Dec>();
  for (const position of broker)
    brokerQty.set(position.symbol, (brokerQty.get(position.symbol) ?? dec(0)).plus(position.qty));
  const symbols = [...new Set([...totals.keys(), ...brokerQty.keys()])].filter((s) => !skip.has(s)).sort();
  const discrepancies: PositionDiscrepancy[] = [];
  for (const symbol of symbols) {
    const books = (totals.get(symbol)?.total ?? dec(0)).toDecimalPlaces(QTY_PLACES);
    const held = (brokerQty.get(symbol) ?? dec(0)).toDecimalPlaces(QTY_PLACES);
    if (books.eq(held)) continue;
    const kind: PositionDiscrepancyKind = books.isZero()
      ? 'broker_only'
      : held.isZero()
        ? 'books_only'
        : 'quantity_mismatch';
    discrepancies.push({
      key: positionKey(symbol),
      kind,
      symbol,
      booksQty: books,
      brokerQty: held,
      difference: held.minus(books),
      breakdown: sortedBreakdown(totals.get(symbol)?.shares.values() ?? []),
    });
  }
  return { discrepancies, symbolsCompared: symbols.length };
}

/** Equal fingerprints = the same finding with the same figures (so no new alert is due). */
export function positionFingerprint(
  d: Pick<PositionDiscrepancy, 'kind' | 'booksQty' | 'brokerQty' | 'breakdown'>,
): string {
  const shares = [...d.breakdown]
    .map((s) => `${portfolioNameKey(s.portfolioName)}=${s.qty.toDecimalPlaces(QTY_PLACES).toFixed()}`)
    .sort()
    .join(',');
  const books = d.booksQty.toDecimalPlaces(QTY_PLACES).toFixed();
  const broker = d.brokerQty.toDecimalPlaces(QTY_PLACES).toFixed();
  return `${d.kind}|${books}|${broker}|${shares}`;
}

/**
 * A mismatch counts only when a second, fresh read shows it again with the same figures; a symbol
 * whose state differs between the two reads is still moving and is judged on a later run.
 */
export function confirmDiscrepancies(
  first: readonly PositionDiscrepancy[],
  second: readonly PositionDiscrepancy[],
): { confirmed: PositionDiscrepancy[]; unsettledSymbols: Set<string> } {
  const earlier = new Map(first.map((d) => [d.symbol, positionFingerprint(d)]));
  const later = new Set(second.map((d) => d.symbol));
  const confirmed: PositionDiscrepancy[] = [];
  const unsettledSymbols = new Set<string>();
  for (const d of second) {
    if (earlier.get(d.symbol) === positionFingerprint(d)) confirmed.push(d);
    else unsettledSymbols.add(d.symbol);
  }
  for (const symbol of earlier.keys()) if (!later.has(symbol)) unsettledSymbols.add(symbol);
  return { confirmed, unsettledSymbols };
}

/** An open position finding as stored. */
export interface OpenPositionFinding {
  id: number;
  key: string;
  symbol: string;
  kind: PositionDiscrepancyKind;
  booksQty: Dec;
  brokerQty: Dec;
  breakdown: PortfolioShare[];
}

export interface PositionPlan {
  /** Not open before (new, or back after being resolved): a new alert. */
  create: PositionDiscrepancy[];
  /** Open, with different figures: its alert is updated. */
  change: { id: number; found: PositionDiscrepancy }[];
  /** Open, unchanged: only last seen moves. */
  keep: { id: number; found: PositionDiscrepancy }[];
  /** Open before, agreed now. */
  resolve: number[];
}

/**
 * What to do with the stored findings given this run's confirmed ones. Findings for symbols in
 * `undecided` (skipped or unconfirmed this run) are left exactly as they are.
 */
export function planPositionUpdates(
  open: readonly OpenPositionFinding[],
  confirmed: readonly PositionDiscrepancy[],
  undecided: ReadonlySet<string>,
): PositionPlan {
  const byKey = new Map(open.map((o) => [o.key, o]));
  const plan: PositionPlan = { create: [], change: [], keep: [], resolve: [] };
  for (const found of confirmed) {
    const stored = byKey.get(found.key);
    if (!stored) plan.create.push(found);
    else if (positionFingerprint(stored) === positionFingerprint(found)) plan.keep.push({ id: stored.id, found });
    else plan.change.push({ id: stored.id, found });
  }
  const seen = new Set(confirmed.map((d) => d.key));
  for (const stored of open) {
    if (!seen.has(stored.key) && !undecided.has(stored.symbol)) plan.resolve.push(stored.id);
  }
  return plan;
}

/** The broker's view of an order, as much as the diff needs. */
export interface BrokerOrderFacts {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  status: string;
  qty?: Dec;
  notional?: Dec;
  filledQty: Dec;
  filledAvgPrice?: Dec;
  updatedAt: Date;
}

/** An order row in the books with the quantity its stored fills add up to. */
export interface BookOrderFacts {
  id: number;
  clientOrderId: string | null;
  alpacaOrderId: string | null;
  status: TradeStatus;
  portfolioName: string;
  filledQty: Dec;
}

export interface OrderRepair<O extends BrokerOrderFacts = BrokerOrderFacts> {
  order: O;
  book: BookOrderFacts;
  /** The books' status before, and the broker's (mapped to ours). */
  from: TradeStatus;
  to: TradeStatus;
  booksFilled: Dec;
}

export interface OrderReview<O extends BrokerOrderFacts = BrokerOrderFacts> {
  /** Symbols with an order that changed within the quiet period: fills may still be on their way. */
  quietSymbols: Set<string>;
  /** The broker settled (or filled more of) an order the books show otherwise: applied, recorded, mentioned. */
  repairs: OrderRepair<O>[];
  /** Open orders the books are merely behind on (e.g. submitted → accepted): applied silently. */
  catchUps: { order: O; book: BookOrderFacts }[];
  /** Ours by client_order_id, yet not in the books: adopted into the books and flagged. */
  adopt: O[];
  /** Not ours: placed elsewhere, reported. */
  external: O[];
  /** Orders looked at (quiet ones excluded). */
  checked: number;
}

/**
 * Sorts the broker's recent orders against the books. Orders that changed less than `quietMs`
 * ago are ignored this run — a stream update is probably on its way.
 */
export function reviewOrders<O extends BrokerOrderFacts>(
  orders: readonly O[],
  books: readonly BookOrderFacts[],
  options: { now: Date; quietMs: number },
): OrderReview<O> {
  const byClientId = new Map(books.filter((b) => b.clientOrderId).map((b) => [b.clientOrderId!, b]));
  const byOrderId = new Map(books.filter((b) => b.alpacaOrderId).map((b) => [b.alpacaOrderId!, b]));
  const review: OrderReview<O> = {
    quietSymbols: new Set(),
    repairs: [],
    catchUps: [],
    adopt: [],
    external: [],
    checked: 0,
  };
  for (const order of orders) {
    if (options.now.getTime() - order.updatedAt.getTime() < options.quietMs) {
      review.quietSymbols.add(order.symbol);
      continue;
    }
    review.checked += 1;
    const book = byClientId.get(order.clientOrderId) ?? byOrderId.get(order.id);
    if (!book) {
      if (isOurClientOrderId(order.clientOrderId)) review.adopt.push(order);
      else review.external.push(order);
      continue;
    }
    const to = tradeStatusFromBroker(order.status);
    const fillsDiffer = !book.filledQty.toDecimalPlaces(QTY_PLACES).eq(order.filledQty.toDecimalPlaces(QTY_PLACES));
    if (fillsDiffer || (to !== book.status && (isTerminal(to) || book.status === 'failed'))) {
      review.repairs.push({ order, book, from: book.status, to, booksFilled: book.filledQty });
    } else if (to !== book.status && !isTerminal(book.status)) {
      review.catchUps.push({ order, book });
    }
  }
  return review;
}

export function orderFindingKey(
  kind: OrderFindingKind,
  order: Pick<BrokerOrderFacts, 'id' | 'status' | 'filledQty'>,
): string {
  if (kind === 'order_repaired') return `repaired:${order.id}:${order.status}:${order.filledQty.toFixed()}`;
  return `${kind === 'order_adopted' ? 'adopted' : 'external'}:${order.id}`;
}

/**
 * What a discrepancy row's `details` holds (JSON; decimals as strings). Position findings carry
 * the per-portfolio breakdown; order findings the order's facts.
 */
export interface DiscrepancyDetails {
  breakdown?: { portfolioName: string; qty: string }[];
  order?: {
    id: string;
    clientOrderId: string;
    side: Side;
    status: string;
    qty?: string;
    notional?: string;
    filledQty: string;
    filledAvgPrice?: string;
    /** Repairs: the books' status and filled quantity before. */
    from?: TradeStatus;
    booksFilled?: string;
    /** Adoptions: the portfolio the order went into, and whether that was a guess. */
    portfolioName?: string;
    portfolioUnknown?: boolean;
  };
}

export function breakdownToDetails(breakdown: readonly PortfolioShare[]): DiscrepancyDetails['breakdown'] {
  return breakdown.map((s) => ({ portfolioName: s.portfolioName, qty: s.qty.toFixed() }));
}

export function breakdownFromDetails(details: DiscrepancyDetails): PortfolioShare[] {
  return (details.breakdown ?? []).map((s) => ({ portfolioName: s.portfolioName, qty: dec(s.qty) }));
}

export function orderDetails(
  order: BrokerOrderFacts,
  extra: Partial<NonNullable<DiscrepancyDetails['order']>> = {},
): NonNullable<DiscrepancyDetails['order']> {
  return {
    id: order.id,
    clientOrderId: order.clientOrderId,
    side: order.side,
    status: order.status,
    ...(order.qty ? { qty: order.qty.toFixed() } : {}),
    ...(order.notional ? { notional: order.notional.toFixed() } : {}),
    filledQty: order.filledQty.toFixed(),
    ...(order.filledAvgPrice ? { filledAvgPrice: order.filledAvgPrice.toFixed() } : {}),
    ...extra,
  };
}

/**
 * The adjustment that makes the books match the broker for one symbol, booked into one
 * portfolio: the signed quantity to add (zero = nothing to do).
 */
export function adjustmentToMatch(booksTotal: Dec, brokerQty: Dec): { qty: Dec; side: Side } {
  const qty = brokerQty.minus(booksTotal).toDecimalPlaces(QTY_PLACES);
  return { qty, side: qty.isNegative() ? 'sell' : 'buy' };
}

export const RECONCILE_OUTCOMES = ['ok', 'discrepancies', 'failed'] as const;

export type ReconcileOutcome = (typeof RECONCILE_OUTCOMES)[number];

export const RECONCILE_TRIGGERS = ['schedule', 'startup', 'manual', 'recheck'] as const;

export type ReconcileTrigger = (typeof RECONCILE_TRIGGERS)[number];

export interface ReconcileRunCounts {
  symbolsChecked: number;
  ordersChecked: number;
  openDiscrepancies: number;
  newDiscrepancies: number;
  resolvedDiscrepancies: number;
  ordersRepaired: number;
  ordersAdopted: number;
  ordersExternal: number;
  brokerRequests: number;
}

export interface ReconcileRun extends ReconcileRunCounts {
  id: number;
  startedAt: Date;
  finishedAt: Date | null;
  /** NULL while running (or when the process died during the run). */
  outcome: ReconcileOutcome | null;
  trigger: ReconcileTrigger;
  error: string | null;
}

export interface StoredDiscrepancy {
  id: number;
  key: string;
  kind: DiscrepancyKind;
  symbol: string;
  details: DiscrepancyDetails;
  booksQty: Dec | null;
  brokerQty: Dec | null;
  difference: Dec | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  slackChannelId: string | null;
  slackMessageTs: string | null;
  lastRunId: number | null;
}

export interface FindingChanges {
  created: StoredDiscrepancy[];
  changed: StoredDiscrepancy[];
  unchanged: StoredDiscrepancy[];
  resolved: StoredDiscrepancy[];
}

export interface BookAdjustment {
  id: number;
  portfolioName: string;
  symbol: string;
  qty: Dec;
  price: Dec;
  reason: string;
  userId: string;
  createdAt: Date;
  discrepancyId: number | null;
}

/** What a finished run's notice carries: the run and its findings by id, read again when it is delivered. */
export interface RunFinishedPayload {
  runId: number;
  created: number[];
  changed: number[];
  unchanged: number[];
  resolved: number[];
}

export interface BooksStatus {
  outcome: ReconcileOutcome;
  /** Symbols on which the books and the broker disagree. */
  openDiscrepancies: number;
  checkedAt: Date;
}
