/**
 * Alpaca's error envelope `{code, message, ...}` and the bodies the stand-in answers with.
 *
 * Sources for the wording (messages can change without notice at Alpaca; the HTTP status and
 * numeric code are the stable contract):
 * - 401 40110000 "request is not authorized": reported verbatim by users of the trading API.
 * - 403 40310000 "insufficient buying power" with `buying_power` / `cost_basis`: alpacahq/alpaca-py#225.
 * - 403 40310000 "insufficient qty available for order (requested: X, available: Y)": Alpaca-API#282.
 * - 403 40310000 "potential wash trade detected. use complex orders": Alpaca's forum and several
 *   2026 live probes (HTTP 403). An older report (Petersoj/alpaca-java#145, 2024) saw 422 42210000.
 * - 403 40310000 "cost basis must be >= minimal amount of order 1": Alpaca forum.
 * - 422 40010001 "client_order_id must be unique": what Alpaca answers a repeated client_order_id.
 * - 422 42210000 "invalid limit_price 11.055. sub-penny increment does not fulfill minimum pricing
 *   criteria": alpaca-trade-api-csharp#497.
 * - 404 40410000 "asset not found": Alpaca's answer to GET /v2/assets/{symbol} for an unknown symbol;
 *   asset-related 422s follow the wording of Alpaca's documented options error table
 *   (`contract "{symbol}" not found` / `is not tradable`).
 * - 400 40010000 "request body format is invalid": Alpaca-API#89.
 * - 42910000 "rate limit exceeded": the code and wording the stand-in assumes (Alpaca documents only
 *   the 429 status).
 */
export interface AlpacaErrorBody {
  code: number;
  message: string;
  [extra: string]: unknown;
}

export class AlpacaApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: AlpacaErrorBody,
  ) {
    super(body.message);
    this.name = 'AlpacaApiError';
  }
}

function fail(status: number, code: number, message: string, extra: Record<string, unknown> = {}): AlpacaApiError {
  return new AlpacaApiError(status, { code, message, ...extra });
}

export const alpacaErrors = {
  unauthorized: () => fail(401, 40110000, 'request is not authorized'),
  rateLimited: () => fail(429, 42910000, 'rate limit exceeded'),
  malformedBody: () => fail(400, 40010000, 'request body format is invalid'),
  invalidParameter: (message: string) => fail(422, 40010001, message),
  endpointNotFound: () => fail(404, 40410000, 'endpoint not found'),
  assetNotFound: () => fail(404, 40410000, 'asset not found'),
  orderNotFound: () => fail(404, 40410000, 'order not found'),
  positionNotFound: () => fail(404, 40410000, 'position does not exist'),
  duplicateClientOrderId: () => fail(422, 40010001, 'client_order_id must be unique'),
  clientOrderIdTooLong: () => fail(422, 40010001, 'client_order_id must be no more than 128 characters'),
  orderAssetNotFound: (symbol: string) => fail(422, 42210000, `asset "${symbol}" not found`),
  orderAssetNotTradable: (symbol: string) => fail(422, 42210000, `asset "${symbol}" is not tradable`),
  orderAssetNotActive: (symbol: string) => fail(422, 42210000, `asset "${symbol}" is not active`),
  notFractionable: (symbol: string) => fail(422, 42210000, `asset "${symbol}" is not fractionable`),
  fractionalNotMarket: () => fail(422, 42210000, 'fractional orders must be market orders'),
  fractionalNotDay: () => fail(422, 42210000, 'fractional orders must be DAY orders'),
  extendedHoursNotLimit: () => fail(422, 42210000, 'only type="limit" is allowed for extended hours orders'),
  extendedHoursTimeInForce: () => fail(422, 42210000, 'extended hours orders must be DAY or GTC orders'),
  subPenny: (field: string, price: string) =>
    fail(422, 42210000, `invalid ${field} ${price}. sub-penny increment does not fulfill minimum pricing criteria`),
  notCancelable: (status: string) => fail(422, 42210000, `order is already in "${status}" state`),
  insufficientBuyingPower: (buyingPower: string, costBasis: string) =>
    fail(403, 40310000, 'insufficient buying power', { buying_power: buyingPower, cost_basis: costBasis }),
  insufficientQty: (symbol: string, requested: string, available: string, existing: string, held: string) =>
    fail(403, 40310000, `insufficient qty available for order (requested: ${requested}, available: ${available})`, {
      available,
      existing_qty: existing,
      held_for_orders: held,
      symbol,
    }),
  washTrade: (existingOrderId: string, existingType: string) =>
    fail(403, 40310000, 'potential wash trade detected. use complex orders', {
      existing_order_id: existingOrderId,
      reject_reason: `opposite side ${existingType} order exists`,
    }),
  belowMinimumCostBasis: () => fail(403, 40310000, 'cost basis must be >= minimal amount of order 1'),
  patternDayTrader: () => fail(403, 40310100, 'trade denied due to pattern day trading protection'),
  missingSymbols: () => fail(400, 40010001, 'missing symbols'),
  /** Market data documents 400 for any invalid query parameter ("invalid timeframe", …). */
  invalidQuery: (message: string) => fail(400, 40010001, message),
} as const;

/** Bodies for injected faults when the test does not give one. */
export function defaultFaultBody(status: number): AlpacaErrorBody {
  if (status === 429) return { code: 42910000, message: 'rate limit exceeded' };
  if (status === 503) return { code: 50310000, message: 'service unavailable' };
  if (status === 504) return { code: 50410000, message: 'gateway timeout' };
  if (status >= 500) return { code: 50010000, message: 'internal server error' };
  return { code: status * 100000, message: 'injected fault' };
}
