import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { changeOf } from '../../domain/portfolio-valuation';
import type { ApiDeps } from './deps';
import { sendError } from './errors';
import { iso, num } from './resources';
import {
  AccountAnswer,
  ErrorBody,
  MarketAnswer,
  PortfolioAnswer,
  PortfolioNames,
  PortfolioParams,
  PositionsAnswer,
  QuoteAnswer,
  QuoteParams,
  TradersAnswer,
} from './schemas';

/** The books and the broker: portfolios, the account, positions side by side, quotes and the market clock. */
export function bookRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/portfolio/:name',
      {
        schema: {
          summary: 'One portfolio priced live (names match in any case)',
          params: PortfolioParams,
          response: { 200: PortfolioAnswer, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        const lookup = await deps.portfolio.portfolio(request.params.name);
        if (lookup.kind === 'not_found') {
          const hint = lookup.suggestions.length > 0 ? ` Did you mean ${lookup.suggestions.join(', ')}?` : '';
          return sendError(reply, 404, 'portfolio_not_found', `No portfolio is named ${lookup.query}.${hint}`, {
            suggestions: lookup.suggestions,
          });
        }
        const { detail } = lookup;
        const counts = await deps.queries.countsFor(detail.name);
        return {
          portfolio_name: detail.name,
          total_trades: counts.total,
          total_buys: counts.buys,
          total_sells: counts.sells,
          positions: Object.fromEntries(
            detail.positions.map((p) => [
              p.symbol,
              {
                quantity: num(p.qty) ?? 0,
                avg_cost: num(p.avgCost),
                last_price: num(p.lastPrice),
                market_value: num(p.marketValue),
                unrealized_pl: num(p.unrealizedPnl),
                unrealized_plpc: num(p.unrealizedPct?.div(100)),
              },
            ]),
          ),
          market_value: num(detail.totals.marketValue) ?? 0,
          unrealized_pl: num(detail.totals.unrealizedPnl) ?? 0,
          realized_pl: num(detail.totals.realizedPnl) ?? 0,
          unpriced: detail.totals.unpriced,
        };
      },
    );

    app.get(
      '/traders',
      {
        schema: {
          summary: 'P&L per trader across every portfolio, ranked (see the README for the definitions)',
          response: { 200: TradersAnswer },
        },
      },
      async () => {
        const report = await deps.traderPnl.report();
        return {
          as_of: report.asOf.toISOString(),
          unpriced: report.unpricedSymbols,
          traders: report.rows.map((row) => ({
            rank: row.rank,
            user_id: row.userId,
            realized_pl: num(row.realized) ?? 0,
            unrealized_pl: num(row.unrealized),
            orders: row.orders,
            closing_orders: row.closingOrders,
            winning_orders: row.winningOrders,
            hit_rate: row.hitRate,
          })),
        };
      },
    );

    app.get(
      '/portfolios',
      { schema: { summary: 'Every portfolio name', response: { 200: PortfolioNames } } },
      async () => deps.entry.portfolioNames({ includeDefault: false }),
    );

    app.get(
      '/account',
      {
        schema: {
          summary: 'The Alpaca account: equity, cash, buying power, today’s P&L',
          response: { 200: AccountAnswer, 404: ErrorBody, 503: ErrorBody },
        },
      },
      async (_request, reply) => {
        const { account: status } = await deps.portfolio.account();
        if (status.kind === 'ledger') {
          return sendError(
            reply,
            404,
            'no_broker_account',
            'Ledger-only mode (USE_ALPACA=false): there is no broker account.',
          );
        }
        if (status.kind !== 'ok') {
          return sendError(reply, 503, 'alpaca_unavailable', `The Alpaca account is unavailable right now.`);
        }
        const a = status.account;
        return {
          account_number: a.accountNumber,
          status: a.status,
          currency: a.currency,
          equity: num(a.equity) ?? 0,
          cash: num(a.cash) ?? 0,
          buying_power: num(a.buyingPower) ?? 0,
          portfolio_value: num(a.portfolioValue) ?? 0,
          last_equity: num(a.lastEquity) ?? 0,
          day_pl: num(status.todayPnl) ?? 0,
          day_pl_pct: num(status.todayPnlPct?.div(100)),
          pattern_day_trader: a.patternDayTrader,
          trading_blocked: a.tradingBlocked,
        };
      },
    );

    app.get(
      '/positions',
      {
        schema: {
          summary: 'Alpaca’s positions beside the books’, per symbol, differences flagged',
          response: { 200: PositionsAnswer },
        },
      },
      async () => {
        const comparison = await deps.portfolio.compareWithBroker();
        return {
          mismatches: comparison.mismatches,
          broker: comparison.broker.kind,
          positions: comparison.rows.map((row) => ({
            symbol: row.symbol,
            books: num(row.books) ?? 0,
            broker: num(row.broker),
            difference: num(row.difference),
            matches: row.difference === undefined ? null : row.difference.isZero(),
          })),
        };
      },
    );

    app.get(
      '/quote/:symbol',
      {
        schema: {
          summary: 'Last price, bid/ask and today’s change',
          params: QuoteParams,
          response: { 200: QuoteAnswer, 404: ErrorBody, 503: ErrorBody },
        },
      },
      async (request, reply) => {
        const quote = await deps.entry.quote(request.params.symbol);
        if (!quote.asset) {
          const unknown = quote.known === false;
          return sendError(
            reply,
            unknown ? 404 : 503,
            unknown ? 'unknown_symbol' : 'alpaca_unavailable',
            quote.error ?? `No quote for ${quote.symbol}.`,
          );
        }
        const s = quote.snapshot;
        const last = s?.lastPrice ?? s?.ask ?? s?.bid;
        const change = last && s?.prevClose ? changeOf(last, s.prevClose) : undefined;
        return {
          symbol: quote.asset.symbol,
          name: quote.asset.name,
          tradable: quote.asset.tradable,
          fractionable: quote.asset.fractionable,
          last_price: num(s?.lastPrice),
          bid: num(s?.bid),
          ask: num(s?.ask),
          prev_close: num(s?.prevClose),
          day_change: num(change?.amount),
          day_change_pct: num(change?.fraction),
          updated_at: iso(s?.updatedAt),
        };
      },
    );

    app.get(
      '/market-status',
      {
        schema: {
          summary: 'Open or closed, with the next open and close (New York time in the sentences)',
          response: { 200: MarketAnswer, 503: ErrorBody },
        },
      },
      async (_request, reply) => {
        const status = await deps.entry.marketStatus();
        if (!status) return sendError(reply, 503, 'alpaca_unavailable', 'Alpaca did not answer for the market clock.');
        return {
          is_open: status.clock.isOpen,
          timestamp: status.clock.timestamp.toISOString(),
          next_open: status.clock.nextOpen.toISOString(),
          next_close: status.clock.nextClose.toISOString(),
          headline: status.market.headline,
          detail: status.market.detail,
        };
      },
    );
  };
}
