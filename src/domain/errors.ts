import { type Dec, formatUsd } from './money';

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

/** Any failure as a sentence for a log line or a trader: a BrokerError's message already is one. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A broker refusal as a sentence a trader understands (the BrokerError message already is one, plus figures). */
export function rejectionSentence(error: BrokerError): string {
  if (error.kind === 'insufficient_buying_power' && error.details.buyingPower !== undefined) {
    const cost =
      error.details.costBasis !== undefined ? ` This order needs about ${formatUsd(error.details.costBasis)};` : '';
    return `Not enough buying power.${cost} the account has ${formatUsd(error.details.buyingPower)} available.`;
  }
  if (error.kind === 'rate_limited')
    return 'Alpaca is rate-limiting us right now, so the order was not sent. Try again in a minute.';
  if (error.kind === 'unavailable') return `Alpaca is unavailable, so the order was not sent. ${error.message}`;
  return error.message;
}
