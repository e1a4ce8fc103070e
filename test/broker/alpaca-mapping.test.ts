import { marketData, streaming, trading } from '@alpacahq/alpaca-trade-api';
import { describe, expect, it } from 'vitest';
import {
  mapAccount,
  mapOrder,
  mapPortfolioHistory,
  mapSnapshot,
  mapTradeUpdate,
  toPostOrderRequest,
} from '../../src/broker/alpaca-mapping';
import { dec } from '../../src/domain/money';

const wireOrder = {
  id: 'o-1',
  client_order_id: 'slack-V1',
  symbol: 'AAPL',
  side: 'buy',
  type: 'limit',
  time_in_force: 'day',
  status: 'partially_filled',
  qty: '10',
  notional: null,
  filled_qty: '4',
  filled_avg_price: '189.42',
  limit_price: '190.1',
  stop_price: null,
  extended_hours: false,
  created_at: '2026-03-02T15:00:00Z',
  updated_at: '2026-03-02T15:00:05Z',
  submitted_at: '2026-03-02T15:00:00.5Z',
  filled_at: null,
};

describe('Alpaca model mapping', () => {
  it('maps an order through the SDK model to exact decimals and dates', () => {
    const order = mapOrder(trading.OrderFromJSON(wireOrder));
    expect(order).toMatchObject({
      id: 'o-1',
      clientOrderId: 'slack-V1',
      symbol: 'AAPL',
      side: 'buy',
      type: 'limit',
      timeInForce: 'day',
      status: 'partially_filled',
      extendedHours: false,
    });
    expect(order.qty?.toFixed()).toBe('10');
    expect(order.notional).toBeUndefined();
    expect(order.filledQty.toFixed()).toBe('4');
    expect(order.filledAvgPrice?.toFixed()).toBe('189.42');
    expect(order.limitPrice?.toFixed()).toBe('190.1');
    expect(order.stopPrice).toBeUndefined();
    expect(order.filledAt).toBeUndefined();
    expect(order.updatedAt.toISOString()).toBe('2026-03-02T15:00:05.000Z');
  });

  it('maps the account, reading pattern_day_trader from the raw wire key', () => {
    const account = mapAccount(
      trading.AccountFromJSON({
        id: 'a',
        account_number: 'PA123',
        status: 'ACTIVE',
        currency: 'USD',
        cash: '1000.10',
        equity: '1500',
        last_equity: '1400',
        buying_power: '2000.2',
        portfolio_value: '1500',
        pattern_day_trader: true,
        trading_blocked: false,
        account_blocked: false,
      }),
    );
    expect(account).toMatchObject({
      accountNumber: 'PA123',
      status: 'ACTIVE',
      patternDayTrader: true,
      tradingBlocked: false,
    });
    expect(account.cash.toFixed()).toBe('1000.1');
    expect(account.buyingPower.toFixed()).toBe('2000.2');
  });

  it('maps a snapshot, treating a null snapshot as none and a 0 bid/ask as no quote', () => {
    expect(mapSnapshot('ZZZ', null)).toBeUndefined();
    const snapshot = mapSnapshot(
      'AAPL',
      marketData.StockSnapshotFromJSON({
        latestTrade: { p: 189.42, t: '2026-03-02T15:00:00Z', s: 1, c: [], i: 1, x: 'V', z: 'C' },
        latestQuote: { bp: 0, ap: 189.5, t: '2026-03-02T15:00:01Z', bs: 0, as: 1, bx: 'V', ax: 'V', c: [], z: 'C' },
        prevDailyBar: { c: 187.1, o: 186, h: 188, l: 185, v: 1, n: 1, vw: 1, t: '2026-02-27T05:00:00Z' },
        dailyBar: { o: 188.05, c: 189, h: 190, l: 187, v: 1, n: 1, vw: 1, t: '2026-03-02T05:00:00Z' },
      }),
    );
    expect(snapshot?.lastPrice?.toFixed()).toBe('189.42');
    expect(snapshot?.bid).toBeUndefined();
    expect(snapshot?.ask?.toFixed()).toBe('189.5');
    expect(snapshot?.prevClose?.toFixed()).toBe('187.1');
    expect(snapshot?.dayOpen?.toFixed()).toBe('188.05');
    expect(snapshot?.updatedAt?.toISOString()).toBe('2026-03-02T15:00:00.000Z');
  });

  it('maps a fill event with its execution, whether qty/price come as strings or numbers', () => {
    const asStrings = mapTradeUpdate(
      streaming.mapTradeUpdate({
        event: 'fill',
        timestamp: '2026-03-02T15:00:05Z',
        execution_id: 'x-1',
        qty: '4',
        price: '189.42',
        position_qty: '4',
        order: wireOrder,
      }),
    );
    expect(asStrings.event).toBe('fill');
    expect(asStrings.at.toISOString()).toBe('2026-03-02T15:00:05.000Z');
    expect(asStrings.execution?.id).toBe('x-1');
    expect(asStrings.execution?.qty.toFixed()).toBe('4');
    expect(asStrings.execution?.price.toFixed()).toBe('189.42');
    expect(asStrings.execution?.positionQty?.toFixed()).toBe('4');
    const asNumbers = mapTradeUpdate(
      streaming.mapTradeUpdate({
        event: 'partial_fill',
        execution_id: 'x-2',
        qty: 1.5,
        price: 10.01,
        order: wireOrder,
      }),
    );
    expect(asNumbers.execution?.qty.toFixed()).toBe('1.5');
    expect(asNumbers.execution?.price.toFixed()).toBe('10.01');
    expect(mapTradeUpdate(streaming.mapTradeUpdate({ event: 'new', order: wireOrder })).execution).toBeUndefined();
  });

  it('maps portfolio history, skipping days without equity', () => {
    const points = mapPortfolioHistory(
      trading.PortfolioHistoryFromJSON({
        timestamp: [1772409600, 1772496000, 1772582400],
        equity: [null, 1000.5, 1010],
        profit_loss: [],
        profit_loss_pct: [],
        base_value: 1000,
        timeframe: '1D',
      }),
    );
    expect(points.map((p) => [p.at.toISOString(), p.equity.toFixed()])).toEqual([
      ['2026-03-03T00:00:00.000Z', '1000.5'],
      ['2026-03-04T00:00:00.000Z', '1010'],
    ]);
  });

  it('sends decimals as exact strings and leaves out what the intent lacks', () => {
    const request = trading.PostOrderRequestToJSON(
      toPostOrderRequest({
        clientOrderId: 'slack-V1',
        symbol: 'AAPL',
        side: 'sell',
        type: 'limit',
        timeInForce: 'gtc',
        qty: dec('0.123456789'),
        limitPrice: dec('410.5'),
        extendedHours: false,
      }),
    );
    expect(JSON.parse(JSON.stringify(request))).toEqual({
      client_order_id: 'slack-V1',
      symbol: 'AAPL',
      side: 'sell',
      type: 'limit',
      time_in_force: 'gtc',
      qty: '0.123456789',
      limit_price: '410.5',
    });
  });
});
