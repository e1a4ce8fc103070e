import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';

const ADMIN = 'U0ADMIN';

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(
    `reconciliation on demand from /portfolio and the Home tab on ${databaseSuiteName(kind)}`,
    () => {
      let db: TestDatabase;
      let t: LaunchedApp;

      beforeAll(async () => {
        db = await kind.create();
        t = await launchApp({ database: db.target, env: { ADMIN_USER_IDS: ADMIN } });
      });
      afterAll(async () => {
        await t?.stop();
        await db?.drop();
      });

      async function answerTo(text: string, userId: string): Promise<string> {
        const cmd = await t.slack.slashCommand({ command: '/portfolio', text, userId });
        await expect
          .poll(() => t.slack.responses.filter((r) => r.url === cmd.responseUrl).length, { timeout: 10_000 })
          .toBe(1);
        return JSON.stringify(t.slack.responses.find((r) => r.url === cmd.responseUrl)!.body);
      }

      it('/portfolio reconcile runs a reconciliation for an admin and refuses everyone else', async () => {
        expect(await answerTo('reconcile', 'U0SOMEONE')).toContain('Only admins');
        const answer = await answerTo('reconcile', ADMIN);
        expect(answer).not.toContain('Only admins');
        // A run still going (the start-up one) answers "already running" instead of starting another.
        expect(answer).toMatch(/Books match Alpaca|open discrepanc|already running/);
      });

      it('shows "Reconcile now" on the Home tab to admins only', async () => {
        await t.slack.appHomeOpened(ADMIN);
        await t.slack.appHomeOpened('U0SOMEONE');
        await expect
          .poll(() => (t.slack.homeView(ADMIN) && t.slack.homeView('U0SOMEONE') ? 'both' : 'waiting'), {
            timeout: 10_000,
          })
          .toBe('both');
        expect(JSON.stringify(t.slack.homeView(ADMIN)!.view)).toContain('home_reconcile_now');
        expect(JSON.stringify(t.slack.homeView('U0SOMEONE')!.view)).not.toContain('home_reconcile_now');
      });
    },
  );
}
