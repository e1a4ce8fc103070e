import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initORM, migrateToLatest } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { ApiClient } from '../support/api-client';
import { startProgram } from '../support/app-process';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { appEnvironment, type LaunchedApp, launchApp } from '../support/launch';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-standin';
import { formValues, messageText, waitForConfirmation } from '../support/trading';

const API_KEY = 'crash-test-oms-key';

/** Resolves with the app's ready line once it logs it; rejects with its output if it exits first. */
function readyLine(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
  let output = '';
  return new Promise((res, rej) => {
    for (const stream of [child.stdout, child.stderr]) {
      // Decoded per stream, so a multi-byte character split across chunks cannot hide the '—'.
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        output += d;
        const ready = output.split('\n').find((line) => line.includes('ready — '));
        if (ready) res(ready);
      });
    }
    child.on('exit', (code, signal) =>
      rej(new Error(`the app exited (${code ?? signal}) before it was ready:\n${output}`)),
    );
  });
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(
    `a crash between any two steps loses nothing and duplicates nothing on ${databaseSuiteName(kind)}`,
    () => {
      let slack: SlackStandIn;
      let alpaca: AlpacaStandIn;
      let db: TestDatabase;
      let restarted: LaunchedApp | undefined;

      beforeAll(async () => {
        slack = await startSlackStandIn();
        alpaca = await startAlpacaStandIn({ marketOpen: true });
      });
      afterEach(async () => {
        // A hold a failed test never used must not catch the next test's order.
        alpaca.clearFaults();
        await restarted?.stop();
        restarted = undefined;
        await db?.drop();
      });
      afterAll(async () => {
        await slack?.close();
        await alpaca?.close();
      });

      it('process killed after the broker accepted the order but before the books were updated: ' +
        'the restart settles it', async () => {
        db = await kind.create();
        // No trade_updates stream for the doomed process, so only its own POST could update the row.
        const env = appEnvironment({
          slack,
          alpaca,
          database: db.target,
          useAlpaca: true,
          extra: { ALPACA_STREAM_URL: 'ws://127.0.0.1:9/stream' },
        });
        const child = startProgram(env);
        const exited = new Promise<void>((res) => child.on('exit', () => res()));
        const orm = await initORM(db.target);
        try {
          // Start-up (tsx, migrations) slows down under load: wait for the line itself, bounded by the test's timeout.
          await readyLine(child);
          await slack.waitForConnection();

          // Alpaca places the order, then holds its answer: the window in which the process dies.
          alpaca.inject({ method: 'POST', path: '/v2/orders', holdResponseMs: 20_000 });
          const command = await slack.slashCommand({ command: '/trade', text: 'buy 3 AAPL' });
          await expect
            .poll(() => slack.callsTo('views.open').some((c) => JSON.stringify(c.args).includes(command.triggerId)), {
              timeout: 15_000,
            })
            .toBe(true);
          const viewId = (
            slack.callsTo('views.open').find((c) => JSON.stringify(c.args).includes(command.triggerId))!.response as {
              view: { id: string };
            }
          ).view.id;
          const clientOrderId = `oms-${viewId}`;
          await slack.submitView({ viewId, values: formValues({ symbol: 'AAPL', side: 'buy', quantity: '3' }) });
          // The "Sending" confirmation races the POST. Killing between its chat.postMessage and storing its ts
          // leaves a second, never-edited message behind, so the kill waits for that ts: one message, edited in place.
          const trades = new TradeRepository(orm);
          await expect
            .poll(
              async () =>
                alpaca.order(clientOrderId) !== undefined &&
                (await trades.findByClientOrderId(clientOrderId))?.slackMessageTs != null,
              { timeout: 15_000 },
            )
            .toBe(true);
          child.kill('SIGKILL');
          await exited;

          const before = await trades.findByClientOrderId(clientOrderId);
          expect(before?.status).toBe('pending_submit');
          expect(before?.alpacaOrderId).toBeNull();

          restarted = await launchApp({ database: db.target, slack, alpaca });
          const message = await waitForConfirmation(
            restarted,
            clientOrderId,
            (m) => /Filled 3 AAPL/.test(messageText(m)),
            'C0GENERAL',
            30_000,
          );
          expect(message.ts).toBe(before?.slackMessageTs);
          expect(slack.messages('C0GENERAL').filter((m) => messageText(m).includes(clientOrderId))).toHaveLength(1);
          expect(alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
          const after = await trades.findByClientOrderId(clientOrderId);
          const fills = await trades.listFillsForTrade(after!.id);
          expect(after).toMatchObject({ status: 'filled', alpacaOrderId: alpaca.order(clientOrderId)!.id });
          expect(fills.reduce((s, f) => s.plus(f.qty), dec(0)).toString()).toBe('3');
        } finally {
          child.kill('SIGKILL');
          await orm.close(true);
        }
      }, 120_000);

      it('process died after writing the row but before calling the broker: the restart sends it once', async () => {
        db = await kind.create();
        const orm = await initORM(db.target);
        await migrateToLatest(orm);
        const trades = new TradeRepository(orm);
        const clientOrderId = 'oms-VCRASHED01';
        await trades.insertPending({
          clientOrderId,
          source: 'slack',
          symbol: 'MSFT',
          side: 'buy',
          quantity: dec(2),
          orderType: 'market',
          timeInForce: 'day',
          extendedHours: false,
          portfolioName: 'Default Portfolio',
          userId: 'U0TESTUSER',
          slackChannelId: 'C0GENERAL',
        });
        const stale = await trades.insertPending({
          clientOrderId: 'oms-VSTALE0001',
          source: 'slack',
          symbol: 'MSFT',
          side: 'buy',
          quantity: dec(1),
          orderType: 'market',
          timeInForce: 'day',
          extendedHours: false,
          portfolioName: 'Default Portfolio',
          userId: 'U0TESTUSER',
          slackChannelId: 'C0GENERAL',
        });
        await orm.close(true);
        // An hour-old unsent row must not be placed behind the trader's back.
        const old = await initORM(db.target);
        await old.em
          .fork()
          .getConnection()
          .execute(`update trades set created_at = ?, timestamp = ? where id = ?`, [
            new Date(Date.now() - 3_600_000),
            new Date(Date.now() - 3_600_000),
            stale.trade.id,
          ]);
        await old.close(true);

        restarted = await launchApp({ database: db.target, slack, alpaca });
        await waitForConfirmation(restarted, clientOrderId, (m) => /Filled 2 MSFT/.test(messageText(m)));
        expect(alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
        const staleMessage = await waitForConfirmation(restarted, 'oms-VSTALE0001', (m) =>
          /Not placed/.test(messageText(m)),
        );
        expect(messageText(staleMessage)).toMatch(/restarted before this order reached Alpaca/);
        expect(alpaca.order('oms-VSTALE0001')).toBeUndefined();
      }, 60_000);

      it('an API order: killed after Alpaca took the order, the restart settles it and the same ' +
        'Idempotency-Key answers with that order, before and after another restart; never a second order', async () => {
        db = await kind.create();
        const env = appEnvironment({
          slack,
          alpaca,
          database: db.target,
          useAlpaca: true,
          extra: { ALPACA_STREAM_URL: 'ws://127.0.0.1:9/stream', OMS_API_KEY: API_KEY },
        });
        const child = startProgram(env);
        const exited = new Promise<void>((res) => child.on('exit', () => res()));
        const orm = await initORM(db.target);
        const body = {
          symbol: 'TSLA',
          quantity: 4,
          side: 'BUY',
          portfolio_name: 'Crash',
          user_id: 'U0TESTUSER',
        };
        const headers = { 'idempotency-key': 'crash-once' };
        try {
          const port = /on :(\d+)/.exec(await readyLine(child))?.[1];
          const doomed = new ApiClient(`http://127.0.0.1:${port}`, API_KEY);
          alpaca.inject({ method: 'POST', path: '/v2/orders', holdResponseMs: 20_000 });
          const lost = doomed.post('/api/v1/trade', body, headers).catch((err: unknown) => err);
          await expect.poll(() => alpaca.orders().some((o) => o.symbol === 'TSLA'), { timeout: 15_000 }).toBe(true);
          child.kill('SIGKILL');
          await exited;
          expect(await lost).toBeInstanceOf(Error);
          const trades = new TradeRepository(orm);
          // The stand-in is shared with the tests above, whose orders start-up may adopt: find ours by symbol.
          const [row, ...others] = await trades.list({ skip: 0, limit: 10, symbol: 'TSLA' });
          expect(others).toEqual([]);
          expect(row).toMatchObject({ status: 'pending_submit', source: 'api', alpacaOrderId: null });

          restarted = await launchApp({ database: db.target, slack, alpaca, env: { OMS_API_KEY: API_KEY } });
          const api = new ApiClient(restarted.baseUrl, API_KEY);
          await api.loadContract();
          const retried = await api.post('/api/v1/trade', body, headers);
          expect(retried.status).toBe(201);
          expect(retried.body).toMatchObject({
            trade_id: row!.tradeId,
            trade: { status: 'filled', alpaca_filled_qty: 4 },
          });
          await restarted.stop();
          restarted = await launchApp({ database: db.target, slack, alpaca, env: { OMS_API_KEY: API_KEY } });
          const again = await new ApiClient(restarted.baseUrl, API_KEY).post('/api/v1/trade', body, headers);
          expect(again.status).toBe(201);
          expect(again.body.trade_id).toBe(row!.tradeId);
          expect(alpaca.orders().filter((o) => o.client_order_id === row!.clientOrderId)).toHaveLength(1);
          expect(alpaca.orders().filter((o) => o.symbol === 'TSLA')).toHaveLength(1);
          const fills = await trades.listFillsForTrade(row!.id);
          expect(fills.reduce((sum, f) => sum.plus(f.qty), dec(0)).toString()).toBe('4');
        } finally {
          child.kill('SIGKILL');
          await orm.close(true);
        }
      }, 120_000);
    },
  );
}
