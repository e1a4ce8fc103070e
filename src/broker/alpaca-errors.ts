import { ApiError, FetchError, SubmitAndWaitError } from '@alpacahq/alpaca-trade-api';
import { BrokerError } from '../domain/errors';
import { type Dec, dec, formatUsd } from '../domain/money';

/** What we were doing when the SDK failed: the error alone does not say. */
export interface BrokerRequestContext {
  /**
   * HTTP method of the failed call. A failure after a non-GET may have changed state at Alpaca
   * (the order may exist), so it is reported as ambiguous. Unknown = assume it may have.
   */
  method?: string;
  /** What the call was about, for the sentence: 'order', 'account', 'cancel request'… */
  what?: string;
  /** The symbol asked about, so "unknown asset" can name it. */
  symbol?: string;
  /** The JSON error body Alpaca sent, when it could be read (see readErrorBody). */
  body?: Record<string, unknown>;
  /** Values scrubbed from every message we keep (the API key id and secret). */
  secrets?: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Alpaca's business codes. 40310000 covers several refusals (buying power, quantity, wash trade,
 * minimum order) and 42210000 most 422 validations, so the message text decides between them.
 */
const CODE_FORBIDDEN_ORDER = 40310000;
const CODE_PATTERN_DAY_TRADER = 40310100;

const REDACTED = '[REDACTED]';

/**
 * Reads the JSON error body kept on an SDK ApiError. The SDK parses only `code` and `message`;
 * the rest (buying_power, cost_basis…) is still in the response, which it read through a clone.
 */
export async function readErrorBody(err: unknown): Promise<Record<string, unknown> | undefined> {
  if (!(err instanceof ApiError) || err.response.bodyUsed) return undefined;
  try {
    const parsed: unknown = JSON.parse(await err.response.clone().text());
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Maps anything the Alpaca SDK throws to a BrokerError whose message a trader understands.
 * Only chosen scalar fields are copied — never the SDK error, its Response or its request
 * headers, which carry the API key and secret.
 */
export function toBrokerError(err: unknown, context: BrokerRequestContext = {}): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof SubmitAndWaitError) {
    const inner = toBrokerError(err.cause, { ...context, method: 'POST' });
    if (!err.placementAmbiguous || inner.ambiguous) return inner;
    return new BrokerError(inner.kind, inner.message, { ...inner.details, ambiguous: true });
  }
  const scrub = scrubber(context.secrets ?? []);
  const what = context.what ?? 'request';
  const ambiguous = context.method === undefined || !SAFE_METHODS.has(context.method.toUpperCase());

  if (err instanceof ApiError) {
    const brokerMessage = scrub(err.message);
    const base = { status: err.status, code: err.code, brokerMessage, requestId: err.requestId };
    const code = Number(err.code);
    const text = brokerMessage.toLowerCase();

    if (err.status === 429) {
      const seconds = err.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(err.retryAfterMs / 1000));
      return new BrokerError(
        'rate_limited',
        'Alpaca is limiting how fast we can send requests (about 200 a minute); ' +
          `${seconds === undefined ? 'try again in a moment' : `try again in about ${seconds} s`}.`,
        { ...base, retryAfterMs: err.retryAfterMs },
      );
    }
    if (err.status === 401) {
      return new BrokerError(
        'unauthorized',
        'Alpaca refused our API keys. An admin needs to check ALPACA_API_KEY_ID and ALPACA_SECRET_KEY.',
        base,
      );
    }
    if (text.includes('wash trade')) {
      return new BrokerError(
        'wash_trade',
        'Alpaca refused the order as a potential wash trade: ' +
          'an opposite-side order for this symbol is still open. ' +
          'Cancel that order first, or use a limit price that cannot cross it.',
        base,
      );
    }
    if (code === CODE_PATTERN_DAY_TRADER || text.includes('pattern day')) {
      return new BrokerError(
        'pattern_day_trader',
        'Alpaca refused the order under the pattern-day-trader rule: ' +
          'an account under $25,000 may make at most 3 day trades in 5 business days.',
        base,
      );
    }
    if (code === CODE_FORBIDDEN_ORDER && text.includes('buying power'))
      return insufficientBuyingPower(base, context.body);
    if (text.includes('insufficient qty')) {
      return new BrokerError(
        'rejected',
        `The account doesn't hold enough shares for this order: ${sentence(brokerMessage)}`,
        base,
      );
    }
    if (text.includes('client_order_id must be unique')) {
      return new BrokerError(
        'duplicate_client_order_id',
        'Alpaca already has an order with this client order id, so it was not placed a second time.',
        base,
      );
    }
    if (isUnknownAsset(err.status, text, context)) {
      const symbol = context.symbol ?? symbolInMessage(brokerMessage);
      return new BrokerError(
        'invalid_symbol',
        symbol
          ? `Alpaca doesn't list a US stock or ETF with the symbol ${symbol}.`
          : "Alpaca doesn't recognise that symbol.",
        base,
      );
    }
    if (err.status === 403 && code === CODE_FORBIDDEN_ORDER) {
      return new BrokerError('rejected', `Alpaca rejected the ${what}: ${sentence(brokerMessage)}`, base);
    }
    if (err.status === 403) {
      return new BrokerError(
        'unauthorized',
        `Alpaca refused access with our API keys: ${sentence(brokerMessage)}`,
        base,
      );
    }
    if (err.status === 404) {
      return new BrokerError('not_found', `Alpaca has no such ${what}.`, base);
    }
    if (err.status === 408 || err.status >= 500) {
      return unavailable(`server error, HTTP ${err.status}`, what, ambiguous, base);
    }
    return new BrokerError('rejected', `Alpaca rejected the ${what}: ${sentence(brokerMessage)}`, base);
  }

  if (err instanceof FetchError) {
    const causeName = (err.cause as { name?: string } | undefined)?.name;
    const reason = causeName === 'TimeoutError' ? 'no answer in time' : 'the connection failed';
    return unavailable(reason, what, ambiguous, {});
  }
  return unavailable('unexpected failure', what, ambiguous, {});
}

function unavailable(reason: string, what: string, ambiguous: boolean, details: BrokerError['details']): BrokerError {
  const message = ambiguous
    ? `We couldn't confirm the ${what} with Alpaca (${reason}). ` +
      'It may still have gone through, so it has to be checked before trying again.'
    : `Alpaca is unavailable right now (${reason}); nothing was changed. Try again in a moment.`;
  return new BrokerError('unavailable', message, { ...details, ambiguous });
}

function insufficientBuyingPower(base: BrokerError['details'], body: Record<string, unknown> | undefined): BrokerError {
  const buyingPower = decimalField(body?.buying_power);
  const costBasis = decimalField(body?.cost_basis);
  const figures =
    buyingPower && costBasis
      ? `: the order needs about ${formatUsd(costBasis)} and the account has ${formatUsd(buyingPower)} available`
      : buyingPower
        ? `: the account has ${formatUsd(buyingPower)} available`
        : ' for this order';
  return new BrokerError('insufficient_buying_power', `Not enough buying power${figures}.`, {
    ...base,
    buyingPower,
    costBasis,
  });
}

function isUnknownAsset(status: number, text: string, context: BrokerRequestContext): boolean {
  const mentionsAsset = /asset.*not found|not found.*asset|unknown asset|invalid symbol|could not find asset/.test(
    text,
  );
  if (status === 404) return mentionsAsset || context.what === 'asset';
  return (status === 422 || status === 400) && mentionsAsset;
}

function symbolInMessage(message: string): string | undefined {
  return /asset\s+"?([A-Za-z][A-Za-z0-9./]{0,11})"?\s+(?:is\s+)?not found/i.exec(message)?.[1]?.toUpperCase();
}

function decimalField(value: unknown): Dec | undefined {
  if ((typeof value !== 'string' && typeof value !== 'number') || value === '') return undefined;
  try {
    return dec(value);
  } catch {
    return undefined;
  }
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'no reason given.';
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function scrubber(secrets: readonly string[]): (text: string) => string {
  const meaningful = secrets.filter((s) => s.length >= 4);
  return (text) => meaningful.reduce((out, secret) => out.split(secret).join(REDACTED), text);
}
