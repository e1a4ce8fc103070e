import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { placeOrder, waitForConfirmation } from '../support/trading';

/**
 * Portfolio names that look the same are one portfolio, through the app: orders placed under
 * "Grow\u200Bth" and "Growth" (a zero-width space), a decomposed and a composed "Café", and
 * "Growth  Fund" and "Growth Fund" land in one portfolio each, and `/portfolio` finds each by
 * any of its spellings. Ledger-only, so no broker is involved.
 */

const ORDERS: [portfolio: string, symbol: string, quantity: string, gmv: string][] = [
  ['Grow\u200Bth', 'AAPL', '10', '1000'],
  ['Growth', 'AAPL', '5', '500'],
  ['Cafe\u0301', 'MSFT', '1', '400'],
  ['Caf\u00e9', 'MSFT', '2', '800'],
  ['Growth  Fund', 'SPY', '1', '500'],
  ['growth fund', 'SPY', '1', '500'],
];

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`portfolio names that look the same on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target, useAlpaca: false });
      orm = await initORM(db.target);
    });

    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });

    /** `/portfolio <text>`: the blocks of the answer, as JSON text. */
    async function portfolioCommand(text: string): Promise<string> {
      const command = await t.slack.slashCommand({ command: '/portfolio', text });
      await expect
        .poll(() => t.slack.responses.some((r) => r.url === command.responseUrl), { timeout: 15_000 })
        .toBe(true);
      const reply = t.slack.responses.find((r) => r.url === command.responseUrl)!;
      expect(reply.error).toBeUndefined();
      return JSON.stringify(reply.body.blocks);
    }

    it('orders are booked into one portfolio per name, stored in normal form, found by any spelling', async () => {
      for (const [portfolio, symbol, quantity, gmv] of ORDERS) {
        const { clientOrderId } = await placeOrder(t, { portfolio, symbol, quantity, gmv });
        await waitForConfirmation(t, clientOrderId, (m) => JSON.stringify(m.blocks).includes('Recorded'));
      }
      expect((await new PortfolioRepository(orm).list()).map((p) => p.name)).toEqual([
        'Caf\u00e9',
        'Growth',
        'Growth Fund',
      ]);
      for (const [name, holding] of [
        ['growth', 'AAPL* · 15 sh'],
        ['GROW\u200BTH', 'AAPL* · 15 sh'],
        ['CAFE\u0301', 'MSFT* · 3 sh'],
        ['caf\u00e9', 'MSFT* · 3 sh'],
        ['Growth  Fund', 'SPY* · 2 sh'],
      ]) {
        expect(await portfolioCommand(name!), name).toContain(holding);
      }
    }, 60_000);
  });
}
