import type { Dec } from './money';

/**
 * Broker failures in the vocabulary of a trader. `kind` drives what the app does next;
 * `ambiguous` means the order may or may not exist at the broker, so the caller must look it
 * up by client_order_id before anything else.
 */
export type BrokerErrorKind =
  | 'insufficient_buying_power'
  | 'wash_trade'
  | 'pattern_day_trader'
  | 'duplicate_client_order_id'
  | 'invalid_symbol'
  | 'not_found'
  | 'rejected'
  | 'rate_limited'
  | 'unauthorized'
  | 'unavailable';

export class BrokerError extends Error {
  constructor(
    readonly kind: BrokerErrorKind,
    message: string,
    readonly details: {
      status?: number;
      code?: number | string;
      brokerMessage?: string;
      ambiguous?: boolean;
      retryAfterMs?: number;
      /** Alpaca's X-Request-ID, worth logging: it is the only handle Alpaca support can trace. */
      requestId?: string;
      /** The figures Alpaca gives with an insufficient-buying-power refusal, when it gives them. */
      buyingPower?: Dec;
      costBasis?: Dec;
    } = {},
  ) {
    super(message);
    this.name = 'BrokerError';
  }

  /** True when the request may have reached the broker and done its work anyway. */
  get ambiguous(): boolean {
    return this.details.ambiguous === true;
  }
}

/** A broker call made while the app runs in ledger-only mode (USE_ALPACA=false). */
export class LedgerOnlyError extends BrokerError {
  constructor(operation: string) {
    super('unavailable', `Ledger-only mode: ${operation} needs Alpaca, which is switched off (USE_ALPACA=false).`);
    this.name = 'LedgerOnlyError';
  }
}
