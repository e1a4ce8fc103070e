import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { dec, formatQty, formatUsd } from '../../domain/money';
import { isTerminal } from '../../domain/order';
import type { OrderField } from '../../domain/order-form';
import type { Trade } from '../../domain/trade';
import type { ApiCaller } from '../../services/api-keys';
import type { ApiOrderOutcome } from '../../services/api-orders';
import type { ApiDeps } from './deps';
import { sendError } from './errors';
import { tradeResource } from './resources';
import {
  CancelAnswer,
  ErrorBody,
  TradeAnswer,
  TradeIdParams,
  TradeList,
  TradeListQuery,
  TradeRequest,
} from './schemas';

/** The order form's field names as the API spells them, so a refusal names the field the client sent. */
const API_FIELDS: Record<OrderField, string> = {
  portfolio: 'portfolio_name',
  symbol: 'symbol',
  side: 'side',
  quantity: 'quantity',
  amount: 'notional',
  order_type: 'order_type',
  limit_price: 'limit_price',
  stop_price: 'stop_price',
  time_in_force: 'time_in_force',
  extended_hours: 'extended_hours',
  gmv: 'gmv',
};

/** An Idempotency-Key stays with the order it made, even one that was not placed. */
const SEND_AGAIN = 'To try again, send it again (with a new Idempotency-Key if you used one).';

/** How each outcome is answered: status code, error code (none: a success) and the sentence. */
function answerFor(
  outcome: ApiOrderOutcome,
  trade: Trade,
): { status: 201 | 202 | 400 | 402 | 409 | 429 | 503; error?: string; message: string } {
  const size = trade.quantity ? `${formatQty(trade.quantity)} ${trade.symbol}` : `${trade.symbol}`;
  switch (outcome) {
    case 'filled': {
      if (trade.source === 'ledger')
        return { status: 201, message: `Recorded ${size} (ledger only, not sent to Alpaca).` };
      const price = trade.alpacaFilledPrice ? ` at ${formatUsd(trade.alpacaFilledPrice)}` : '';
      return { status: 201, message: `Filled ${formatQty(trade.alpacaFilledQty ?? dec(0))} ${trade.symbol}${price}.` };
    }
    case 'accepted':
      return {
        status: 202,
        message: isTerminal(trade.status)
          ? // A replay of the first answer, for an order that has moved on since.
            `Accepted by Alpaca; it has since ended ${trade.status.replace('_', ' ')}: ${size}.`
          : trade.alpacaStatus === 'accepted'
            ? `Accepted by Alpaca and queued for the open: ${size}.`
            : `Accepted by Alpaca, not filled yet (${trade.status.replace('_', ' ')}): ${size}.`,
      };
    case 'insufficient_buying_power':
      return { status: 402, error: outcome, message: trade.errorMessage ?? 'Not enough buying power.' };
    case 'rejected':
      return { status: 400, error: 'order_rejected', message: trade.errorMessage ?? 'Alpaca rejected the order.' };
    case 'rate_limited':
      return {
        status: 429,
        error: outcome,
        message: `${trade.errorMessage ?? 'Alpaca is rate-limiting us; not placed.'} ${SEND_AGAIN}`,
      };
    case 'not_placed': {
      const why = trade.errorMessage ?? 'Alpaca is unavailable, so the order was not sent.';
      return { status: 503, error: 'alpaca_unavailable', message: `Not placed: ${why} ${SEND_AGAIN}` };
    }
    case 'pending_approval': {
      const what = trade.quantity || !trade.notional ? size : `${formatUsd(trade.notional)} of ${trade.symbol}`;
      return {
        status: 202,
        message:
          `Recorded but not sent: ${what} is worth more than the approval threshold, so it waits for an approver. ` +
          `Follow it with GET /api/v1/trades/${trade.tradeId}; DELETE withdraws it.`,
      };
    }
    case 'not_approved':
      // Like the other not-placed answers: the error code (approval_rejected, _withdrawn, _expired) says why.
      return {
        status: 409,
        error: trade.errorCode ?? outcome,
        message: `Not placed: ${trade.errorMessage ?? 'it ended before approval.'} ${SEND_AGAIN}`,
      };
    case 'unconfirmed':
      return {
        status: 503,
        error: 'unconfirmed',
        message:
          'Alpaca did not answer and the order could not be confirmed: it may have been placed, and it is being ' +
          `checked. Look it up with GET /api/v1/trades/${trade.tradeId}.`,
      };
  }
}

/** POST /trade, GET /trades, GET and DELETE /trades/{trade_id}. */
export function tradeRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/trade',
      {
        schema: {
          summary: 'Place an order',
          description:
            'Records the order, sends it to Alpaca exactly once and waits up to API_FILL_WAIT_MS for the fill: 201 ' +
            'when filled, 202 when accepted but not filled yet (or queued for the open). With an Idempotency-Key, ' +
            'the same key and body return the same order and status code, never a second order; a retried POST ' +
            'without one may place a second order. An order worth more than APPROVAL_THRESHOLD_NOTIONAL is ' +
            'answered 202 with status pending_approval: recorded, not sent until an approver approves it in Slack; ' +
            'a retry once it ended unapproved is answered 409 with its error_code (approval_rejected, …).',
          headers: z.object({
            'idempotency-key': z
              .string()
              .max(255)
              .optional()
              .describe('Makes the POST safe to retry: the same key and body never place a second order'),
          }),
          body: TradeRequest,
          response: {
            201: TradeAnswer,
            202: TradeAnswer,
            400: ErrorBody,
            402: ErrorBody,
            403: ErrorBody,
            409: ErrorBody,
            429: ErrorBody,
            503: ErrorBody,
          },
        },
        // Orders answered, not requests turned away before an order was looked at (no key, bad body, rate limit).
        onResponse: async (_request, reply) => {
          if (![401, 422, 429].includes(reply.statusCode))
            deps.metrics.orderAcknowledged('api', reply.elapsedTime / 1000);
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (!deps.mayTrade(body.user_id)) {
          return sendError(reply, 403, 'not_a_trader', `${body.user_id} is not allowed to trade (TRADER_USER_IDS).`);
        }
        if (!deps.inFlight.accepting) {
          return sendError(
            reply,
            503,
            'shutting_down',
            'The OMS is restarting, so nothing was placed. Send the order again in a few seconds.',
          );
        }
        const idempotencyKey = request.headers['idempotency-key']?.trim() || undefined;
        const result = await deps.inFlight.run(() =>
          deps.orders.place(
            {
              symbol: body.symbol,
              side: body.side.toLowerCase() === 'buy' ? 'buy' : 'sell',
              quantity: optionalDec(body.quantity),
              notional: optionalDec(body.notional),
              gmv: optionalDec(body.gmv),
              portfolioName: body.portfolio_name,
              userId: body.user_id,
              orderType: body.order_type,
              limitPrice: optionalDec(body.limit_price),
              stopPrice: optionalDec(body.stop_price),
              timeInForce: body.time_in_force,
              extendedHours: body.extended_hours,
              whenClosed: body.when_closed,
            },
            { callerId: request.caller.id, idempotencyKey },
          ),
        );
        switch (result.kind) {
          case 'invalid': {
            const fields = Object.fromEntries(
              Object.entries(result.errors).map(([field, sentence]) => [API_FIELDS[field as OrderField], sentence]),
            );
            const detail = Object.entries(fields)
              .map(([field, sentence]) => `${field}: ${sentence}`)
              .join(' ');
            return sendError(reply, 400, 'invalid_order', detail, { fields });
          }
          case 'market_closed':
            return sendError(
              reply,
              503,
              'market_closed',
              `${result.market.headline}. ${result.market.detail} Nothing was sent; send when_closed: "queue" to ` +
                'have Alpaca queue the order for the open.',
            );
          case 'idempotency_conflict':
            return sendError(
              reply,
              409,
              'idempotency_key_reused',
              'This Idempotency-Key was already used with a different order; use a new key for a new order.',
            );
          case 'placed': {
            const answer = answerFor(result.outcome, result.trade);
            const trade = tradeResource(result.trade);
            if (answer.status === 429) reply.header('retry-after', '60');
            if (answer.error) return sendError(reply, answer.status, answer.error, answer.message, { trade });
            return reply
              .code(answer.status)
              .send({ success: true, trade_id: trade.trade_id, message: answer.message, trade });
          }
        }
      },
    );

    app.get(
      '/trades',
      {
        schema: {
          summary: 'List orders, newest first',
          querystring: TradeListQuery,
          response: { 200: TradeList },
        },
      },
      async (request) => (await deps.queries.list(request.query)).map(tradeResource),
    );

    app.get(
      '/trades/:trade_id',
      {
        schema: {
          summary: 'One order, by its trade_id',
          params: TradeIdParams,
          response: { 200: TradeList.element, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        const trade = await deps.queries.findByTradeId(request.params.trade_id);
        if (!trade) return sendError(reply, 404, 'not_found', `No order has trade_id ${request.params.trade_id}.`);
        return tradeResource(trade);
      },
    );

    app.delete(
      '/trades/:trade_id',
      {
        schema: {
          summary: 'Cancel an open order',
          description:
            '202 once the cancel is asked of Alpaca (the order then ends canceled, or filled if it was quicker). ' +
            'An order still waiting for approval is withdrawn at once (canceled, never sent), recorded as ' +
            'withdrawn by the API key.',
          params: TradeIdParams,
          response: { 202: CancelAnswer, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody },
        },
      },
      async (request, reply) => {
        const trade = await deps.queries.findByTradeId(request.params.trade_id);
        if (!trade?.clientOrderId) {
          return sendError(reply, 404, 'not_found', `No order has trade_id ${request.params.trade_id}.`);
        }
        // An API key may cancel any order; a withdrawal is recorded as decided by the key, not the trader.
        const result = await deps.canceller.cancel(trade.clientOrderId, apiActor(request.caller), true);
        const current = tradeResource((await deps.queries.find(trade.id)) ?? trade);
        switch (result.kind) {
          case 'requested':
            return reply.code(202).send({ success: true, message: result.message, trade: current });
          case 'final':
          case 'not_sent_yet':
            return sendError(reply, 409, result.kind === 'final' ? 'already_final' : 'not_sent_yet', result.message, {
              trade: current,
            });
          default:
            return sendError(reply, 503, 'cancel_failed', result.message, { trade: current });
        }
      },
    );
  };
}

/** Who an API key is in the books (an approval decided through the API). */
function apiActor(caller: ApiCaller): string {
  return `API key ${caller.name}`.slice(0, 255);
}

function optionalDec(value: number | string | undefined) {
  return value === undefined ? undefined : dec(value);
}
