import type { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { DigestRepository } from '../../src/db/repositories/digest-repository';
import { OutboxRepository } from '../../src/db/repositories/outbox-repository';
import type { DigestReport } from '../../src/domain/digest';
import { dec } from '../../src/domain/money';
import { totalValuation } from '../../src/domain/portfolio-valuation';
import { createLogger } from '../../src/logger';
import { type DigestService, POSTING_LAPSE_MS } from '../../src/services/digest';
import { DigestPublisher } from '../../src/slack/digest/digest-publisher';

const DAY = '2026-12-02';
/** A ledger-only day with nothing in it: enough to draw a digest. */
const EMPTY_DAY: DigestReport = {
  tradingDate: DAY,
  generatedAt: new Date('2026-12-02T21:15:00Z'),
  account: { kind: 'ledger' },
  portfolios: [],
  totals: totalValuation([], dec(0)),
  pricing: { source: 'ledger' },
  traders: { kind: 'ok', report: { asOf: new Date('2026-12-02T21:15:00Z'), unpricedSymbols: [], rows: [] } },
  orders: { placed: 0, byStatus: [], notPlaced: [] },
  movers: [],
  trend: { kind: 'ledger' },
};

import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the digest claim on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let orms: Orm[];
    beforeEach(async () => {
      db = await kind.create();
      // PostgreSQL: two connection pools, as two instances have. SQLite runs one instance by design.
      orms = [await initORM(db.target)];
      if (kind.name === 'postgresql') orms.push(await initORM(db.target));
      await migrateToLatest(orms[0]!);
    });
    afterEach(async () => {
      for (const orm of orms) await orm.close(true);
      await db.drop();
    });

    it('ten claims of one day at once (two instances on PostgreSQL): one wins, one outbox entry posts it', async () => {
      const repositories = orms.map((orm) => new DigestRepository(orm));
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          repositories[i % repositories.length]!.claim('2026-12-02', 'C0DIGESTS', `instance-${i % 2}`),
        ),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await new OutboxRepository(orms[0]!).count()).toBe(1);
      const [entry] = await new OutboxRepository(orms[0]!).claim('test', 1, 1_000);
      expect(entry).toMatchObject({
        topic: 'digest.scheduled',
        stream: 'digest:2026-12-02',
        payload: { tradingDate: '2026-12-02', channelId: 'C0DIGESTS' },
      });
      expect(await repositories.at(-1)!.claim('2026-12-03', 'C0DIGESTS', 'instance-1')).toBe(true);

      await repositories[0]!.markPosted('2026-12-02', '1796178935.000100');
      expect(await repositories[0]!.beginPosting('2026-12-02', POSTING_LAPSE_MS)).toBe(false);
      expect(await repositories.at(-1)!.find('2026-12-02')).toMatchObject({
        channelId: 'C0DIGESTS',
        messageTs: '1796178935.000100',
        postedAt: expect.any(Date),
      });
    });

    it('posting claimed once: others wait while it runs, a refusal frees it, an unanswered post lapses', async () => {
      let now = new Date('2026-12-02T21:15:00Z');
      const repositories = orms.map((orm) => new DigestRepository(orm, () => now));
      expect(await repositories[0]!.beginPosting(DAY, POSTING_LAPSE_MS)).toBe(false); // not claimed
      await repositories[0]!.claim(DAY, 'C0DIGESTS', 'instance-0');
      const begun = await Promise.all(
        Array.from({ length: 6 }, (_, i) => repositories[i % repositories.length]!.beginPosting(DAY, POSTING_LAPSE_MS)),
      );
      expect(begun.filter(Boolean)).toHaveLength(1);
      await repositories.at(-1)!.endPosting(DAY);
      expect(await repositories[0]!.beginPosting(DAY, POSTING_LAPSE_MS)).toBe(true);
      now = new Date(now.getTime() + POSTING_LAPSE_MS - 1_000);
      expect(await repositories.at(-1)!.beginPosting(DAY, POSTING_LAPSE_MS)).toBe(false);
      now = new Date(now.getTime() + 2_000);
      expect(await repositories.at(-1)!.beginPosting(DAY, POSTING_LAPSE_MS)).toBe(true);
    });

    it('a delivery the outbox stopped waiting for and its redelivery, at once: one chat.postMessage', async () => {
      const repository = new DigestRepository(orms[0]!);
      await repository.claim(DAY, 'C0DIGESTS', 'instance-0');
      const posts: unknown[] = [];
      let answer: (() => void) | undefined;
      const client = {
        chat: {
          postMessage: async (args: unknown) => {
            posts.push(args);
            // Slack slow to answer the first post.
            await new Promise<void>((resolve) => {
              answer = resolve;
            });
            return { ok: true, ts: '1796178935.000100' };
          },
        },
      } as unknown as WebClient;
      const digest = {
        report: async () => EMPTY_DAY,
        find: (date: string) => repository.find(date),
        beginPosting: (date: string) => repository.beginPosting(date, POSTING_LAPSE_MS),
        endPosting: (date: string) => repository.endPosting(date),
        markPosted: (date: string, ts: string) => repository.markPosted(date, ts),
      } as unknown as DigestService;
      const logger = createLogger({ level: 'silent', secrets: [] });
      const publisher = new DigestPublisher(client, digest, { current: async () => undefined }, logger);
      const payload = { tradingDate: DAY, channelId: 'C0DIGESTS' };
      const first = publisher.deliverScheduled(payload);
      await vi.waitUntil(() => posts.length === 1);
      await expect(publisher.deliverScheduled(payload)).rejects.toThrow(/another delivery/);
      answer?.();
      await first;
      await publisher.deliverScheduled(payload);
      expect(posts).toHaveLength(1);
      expect(await repository.find(DAY)).toMatchObject({ messageTs: '1796178935.000100' });
    });
  });
}
