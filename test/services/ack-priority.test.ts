import { describe, expect, it } from 'vitest';
import { AckPriority } from '../../src/services/ack-priority';

describe('AckPriority', () => {
  it('follow-up work waits while a review runs and goes as soon as none does', async () => {
    const priority = new AckPriority(5_000);
    let finishReview!: () => void;
    const review = priority.review(() => new Promise<void>((resolve) => (finishReview = resolve)));
    let followedUp = false;
    const followUp = priority.afterAcks().then(() => (followedUp = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(followedUp).toBe(false);
    finishReview();
    await review;
    await followUp;
    expect(followedUp).toBe(true);
  });

  it('a review that fails releases the follow-up work too', async () => {
    const priority = new AckPriority(5_000);
    const review = priority.review(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error('refused');
    });
    const followUp = priority.afterAcks();
    await expect(review).rejects.toThrow('refused');
    await followUp;
  });

  it('never waits longer than its bound, however long reviews keep running', async () => {
    const priority = new AckPriority(30);
    void priority.review(() => new Promise<void>(() => undefined));
    const started = performance.now();
    await priority.afterAcks();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('by default holds follow-up work through a second of back-to-back reviews, as a 300-order burst brings', async () => {
    const priority = new AckPriority();
    // Overlapping reviews for a second: always at least one under way, as when submissions queue on a busy CPU.
    const reviews = Array.from({ length: 10 }, (_, i) =>
      priority.review(() => new Promise((resolve) => setTimeout(resolve, 100 * (i + 1)))),
    );
    const started = performance.now();
    await priority.afterAcks();
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    await Promise.all(reviews);
  });

  it('with no review under way, follow-up work goes at once', async () => {
    const started = performance.now();
    await new AckPriority(5_000).afterAcks();
    expect(performance.now() - started).toBeLessThan(100);
  });
});
