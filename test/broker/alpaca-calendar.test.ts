import { afterEach, describe, expect, it } from 'vitest';
import { AlpacaBroker } from '../../src/broker/alpaca-broker';
import { LedgerBroker } from '../../src/broker/ledger-broker';
import { createLogger } from '../../src/logger';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';

describe('the market calendar (GET /v2/calendar through the Alpaca SDK)', () => {
  let standIn: AlpacaStandIn | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  it('lists trading days between two New York dates, leaving out weekends and holidays', async () => {
    standIn = await startAlpacaStandIn();
    standIn.setHolidays(['2026-12-25']);
    const broker = new AlpacaBroker({
      keyId: standIn.keyId,
      secretKey: standIn.secretKey,
      baseUrl: standIn.baseUrl,
      dataUrl: standIn.dataUrl,
      streamUrl: standIn.streamUrl,
      dataFeed: 'iex',
      logger: createLogger({ level: 'silent', secrets: [] }),
    });
    const days = await broker.getCalendar('2026-12-23', '2026-12-28');
    expect(days).toEqual([
      { date: '2026-12-23', open: '09:30', close: '16:00' },
      { date: '2026-12-24', open: '09:30', close: '16:00' },
      { date: '2026-12-28', open: '09:30', close: '16:00' },
    ]);
    // The SDK sends UTC midnights, the evening before in New York: a day more is asked either side.
    const [request] = standIn.requests.filter((r) => r.path === '/v2/calendar');
    expect(request?.query.start).toBe('2026-12-22T00:00:00.000Z');
    expect(request?.query.end).toBe('2026-12-29T00:00:00.000Z');
  });

  it('one day asked for is that New York day (Alpaca reads a UTC-midnight instant as the evening before)', async () => {
    standIn = await startAlpacaStandIn();
    const broker = new AlpacaBroker({
      keyId: standIn.keyId,
      secretKey: standIn.secretKey,
      baseUrl: standIn.baseUrl,
      dataUrl: standIn.dataUrl,
      streamUrl: standIn.streamUrl,
      dataFeed: 'iex',
      logger: createLogger({ level: 'silent', secrets: [] }),
    });
    expect((await broker.getCalendar('2026-12-02', '2026-12-02')).map((d) => d.date)).toEqual(['2026-12-02']);
    expect(await broker.getCalendar('2026-12-05', '2026-12-05')).toEqual([]);
  });

  it('ledger-only mode: every weekday trades (there is no holiday list without a broker)', async () => {
    const days = await new LedgerBroker().getCalendar('2026-12-24', '2026-12-28');
    expect(days.map((d) => d.date)).toEqual(['2026-12-24', '2026-12-25', '2026-12-28']);
  });
});
