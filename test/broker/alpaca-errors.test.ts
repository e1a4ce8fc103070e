import {
  ApiError,
  AuthError,
  FetchError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  SubmitAndWaitError,
  ValidationError,
} from '@alpacahq/alpaca-trade-api';
import { describe, expect, it } from 'vitest';
import { readErrorBody, toBrokerError } from '../../src/broker/alpaca-errors';
import { BrokerError } from '../../src/domain/errors';

const FAKE_KEY = 'PKFAKEKEYID';
const FAKE_SECRET = 'fakeSecretValue0123456789abcdefghijklmno';

function response(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Builds the error the SDK would throw for this Alpaca answer. */
function sdkError(
  status: number,
  body: { code?: number; message: string; [k: string]: unknown },
  headers: Record<string, string> = {},
): ApiError {
  const classes: Record<number, typeof ApiError> = {
    401: AuthError,
    403: PermissionError,
    404: NotFoundError,
    422: ValidationError,
    400: ValidationError,
    429: RateLimitError,
  };
  const ErrorClass = classes[status] ?? ApiError;
  const retryAfter = headers['Retry-After'];
  return new ErrorClass(
    response(status, body, headers),
    status,
    body.code,
    body.message,
    undefined,
    retryAfter ? Number(retryAfter) * 1000 : undefined,
    'req-123',
  );
}

async function mapped(err: unknown, context: Parameters<typeof toBrokerError>[1] = {}): Promise<BrokerError> {
  return toBrokerError(err, { ...context, body: await readErrorBody(err) });
}

function timeoutError(): FetchError {
  const cause = new Error('The operation was aborted due to timeout');
  cause.name = 'TimeoutError';
  return new FetchError(cause, 'The request failed and the interceptors did not return an alternative response');
}

function resetError(): FetchError {
  const cause = Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
  });
  return new FetchError(cause, 'The request failed and the interceptors did not return an alternative response');
}

describe('toBrokerError', () => {
  it("maps 403 40310000 insufficient buying power and keeps Alpaca's figures", async () => {
    const err = await mapped(
      sdkError(403, {
        code: 40310000,
        message: 'insufficient buying power',
        buying_power: '120.5',
        cost_basis: '1894.2',
      }),
      { method: 'POST', what: 'order' },
    );
    expect(err.kind).toBe('insufficient_buying_power');
    expect(err.details.buyingPower?.toFixed()).toBe('120.5');
    expect(err.details.costBasis?.toFixed()).toBe('1894.2');
    expect(err.message).toBe(
      'Not enough buying power: the order needs about $1,894.20 and the account has $120.50 available.',
    );
    expect(err.ambiguous).toBe(false);
    expect(err.details).toMatchObject({ status: 403, code: 40310000, requestId: 'req-123' });
  });

  it('maps insufficient buying power without figures to a plain sentence', () => {
    const err = toBrokerError(sdkError(403, { code: 40310000, message: 'insufficient buying power' }), {
      method: 'POST',
    });
    expect(err.kind).toBe('insufficient_buying_power');
    expect(err.message).toBe('Not enough buying power for this order.');
  });

  it('maps the wash-trade refusal whether Alpaca sends it as 403 or 422', () => {
    const as403 = toBrokerError(
      sdkError(403, { code: 40310000, message: 'potential wash trade detected. use complex orders' }),
      { method: 'POST' },
    );
    const as422 = toBrokerError(sdkError(422, { code: 42210000, message: 'potential wash trade detected' }), {
      method: 'POST',
    });
    expect(as403.kind).toBe('wash_trade');
    expect(as422.kind).toBe('wash_trade');
    expect(as403.message).toMatch(/wash trade/);
  });

  it('does not mistake other 42210000 validations for a wash trade', () => {
    const err = toBrokerError(
      sdkError(422, {
        code: 42210000,
        message: 'invalid limit_price 11.055. sub-penny increment does not fulfill minimum pricing criteria',
      }),
      {
        method: 'POST',
        what: 'order',
      },
    );
    expect(err.kind).toBe('rejected');
    expect(err.message).toBe(
      'Alpaca rejected the order: invalid limit_price 11.055. ' +
        'sub-penny increment does not fulfill minimum pricing criteria.',
    );
  });

  it('maps 40310100 to the pattern-day-trader refusal', () => {
    const err = toBrokerError(
      sdkError(403, { code: 40310100, message: 'trade denied due to pattern day trading protection' }),
      { method: 'POST' },
    );
    expect(err.kind).toBe('pattern_day_trader');
    expect(err.message).toMatch(/pattern-day-trader/);
  });

  it('maps 422 40010001 client_order_id must be unique to duplicate_client_order_id', () => {
    const err = toBrokerError(sdkError(422, { code: 40010001, message: 'client_order_id must be unique' }), {
      method: 'POST',
    });
    expect(err.kind).toBe('duplicate_client_order_id');
    expect(err.ambiguous).toBe(false);
  });

  it('maps an unknown asset (404 on /v2/assets, 422 on an order) to invalid_symbol naming the symbol', () => {
    const lookup = toBrokerError(sdkError(404, { code: 40410000, message: 'asset not found' }), {
      method: 'GET',
      what: 'asset',
      symbol: 'ZZZZ',
    });
    const order = toBrokerError(sdkError(422, { code: 42210000, message: 'asset "QQQQQ" not found' }), {
      method: 'POST',
      what: 'order',
    });
    expect(lookup.kind).toBe('invalid_symbol');
    expect(lookup.message).toBe("Alpaca doesn't list a US stock or ETF with the symbol ZZZZ.");
    expect(order.kind).toBe('invalid_symbol');
    expect(order.message).toContain('QQQQQ');
  });

  it('maps 404 on anything else to not_found', () => {
    const err = toBrokerError(sdkError(404, { code: 40410000, message: 'order not found' }), {
      method: 'GET',
      what: 'order',
    });
    expect(err.kind).toBe('not_found');
    expect(err.message).toBe('Alpaca has no such order.');
  });

  it('maps 429 to rate_limited with the wait Alpaca asked for', () => {
    const err = toBrokerError(
      sdkError(429, { code: 42910000, message: 'rate limit exceeded' }, { 'Retry-After': '7' }),
      { method: 'POST' },
    );
    expect(err.kind).toBe('rate_limited');
    expect(err.details.retryAfterMs).toBe(7000);
    expect(err.message).toContain('about 7 s');
    expect(err.ambiguous).toBe(false);
  });

  it('maps 401 and a bare 403 to unauthorized', () => {
    expect(
      toBrokerError(sdkError(401, { code: 40110000, message: 'request is not authorized' }), { method: 'GET' }).kind,
    ).toBe('unauthorized');
    expect(toBrokerError(sdkError(403, { message: 'forbidden.' }), { method: 'GET' }).kind).toBe('unauthorized');
  });

  it('maps 5xx to unavailable, ambiguous only for requests that can change state', () => {
    const onPost = toBrokerError(sdkError(500, { code: 50010000, message: 'internal server error' }), {
      method: 'POST',
      what: 'order',
    });
    const onGet = toBrokerError(sdkError(503, { code: 50310000, message: 'service unavailable' }), {
      method: 'GET',
      what: 'account',
    });
    expect(onPost.kind).toBe('unavailable');
    expect(onPost.ambiguous).toBe(true);
    expect(onPost.message).toBe(
      "We couldn't confirm the order with Alpaca (server error, HTTP 500). " +
        'It may still have gone through, so it has to be checked before trying again.',
    );
    expect(onGet.kind).toBe('unavailable');
    expect(onGet.ambiguous).toBe(false);
    expect(onGet.message).toMatch(/nothing was changed/);
  });

  it('maps timeouts and connection resets to unavailable, ambiguous after a POST or DELETE', () => {
    expect(toBrokerError(timeoutError(), { method: 'POST', what: 'order' })).toMatchObject({
      kind: 'unavailable',
      details: { ambiguous: true },
    });
    expect(toBrokerError(resetError(), { method: 'DELETE', what: 'cancel request' })).toMatchObject({
      kind: 'unavailable',
      details: { ambiguous: true },
    });
    expect(toBrokerError(resetError(), { method: 'GET' })).toMatchObject({
      kind: 'unavailable',
      details: { ambiguous: false },
    });
    expect(toBrokerError(timeoutError(), { method: 'POST' }).message).toContain('no answer in time');
  });

  it('treats a failure of an unknown method as possibly effective', () => {
    expect(toBrokerError(resetError()).ambiguous).toBe(true);
  });

  it("maps any other 4xx to rejected with Alpaca's message", () => {
    const err = toBrokerError(sdkError(422, { code: 42210000, message: 'fractional orders must be market orders' }), {
      method: 'POST',
      what: 'order',
    });
    expect(err.kind).toBe('rejected');
    expect(err.details.brokerMessage).toBe('fractional orders must be market orders');
    expect(err.message).toBe('Alpaca rejected the order: fractional orders must be market orders.');
  });

  it('keeps a SubmitAndWaitError ambiguous when the placement was', () => {
    const sdk = new SubmitAndWaitError('lost the stream', {
      clientOrderId: 'c-1',
      phase: 'placement',
      placementAmbiguous: true,
      cause: timeoutError(),
    });
    const err = toBrokerError(sdk, { method: 'POST', what: 'order' });
    expect(err.kind).toBe('unavailable');
    expect(err.ambiguous).toBe(true);
  });

  it('returns a BrokerError unchanged', () => {
    const original = new BrokerError('rejected', 'no');
    expect(toBrokerError(original)).toBe(original);
  });

  it('never carries the API key or secret, even when the SDK error holds them', async () => {
    const leaky = sdkError(
      403,
      { message: `forbidden for key ${FAKE_KEY} / ${FAKE_SECRET}` },
      { 'APCA-API-KEY-ID': FAKE_KEY, 'APCA-API-SECRET-KEY': FAKE_SECRET },
    );
    const cause = new Error(`connect failed with headers APCA-API-KEY-ID=${FAKE_KEY}`);
    const errors = [
      await mapped(leaky, { method: 'GET', secrets: [FAKE_KEY, FAKE_SECRET] }),
      toBrokerError(new FetchError(cause, `request with ${FAKE_SECRET} failed`), {
        method: 'POST',
        secrets: [FAKE_KEY, FAKE_SECRET],
      }),
      toBrokerError(cause, { method: 'POST', secrets: [FAKE_KEY, FAKE_SECRET] }),
    ];
    for (const err of errors) {
      const serialized = JSON.stringify({ ...err, message: err.message, stack: err.stack });
      expect(serialized).not.toContain(FAKE_KEY);
      expect(serialized).not.toContain(FAKE_SECRET);
    }
    expect(errors[0]?.details.brokerMessage).toBe('forbidden for key [REDACTED] / [REDACTED]');
  });
});
