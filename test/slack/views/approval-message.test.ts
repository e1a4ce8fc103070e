import { describe, expect, it } from 'vitest';
import { dec } from '../../../src/domain/money';
import {
  type ApprovalRequestView,
  buildApprovalRequestMessage,
  buildDecisionReply,
  buildHomeApprovalBlocks,
  buildRejectModal,
} from '../../../src/slack/approvals/approval-message';
import { checkBlockKit } from '../../support/slack/block-kit';

function request(overrides: Partial<ApprovalRequestView> = {}): ApprovalRequestView {
  return {
    tradeId: 42,
    side: 'buy',
    symbol: 'AAPL',
    qty: dec(100),
    type: 'limit',
    limitPrice: dec('201.50'),
    timeInForce: 'day',
    extendedHours: false,
    portfolio: 'Desk',
    requestedBy: 'U0TRADER',
    requestedAt: new Date('2026-12-01T15:00:00.000Z'),
    estimatedValue: dec('20150'),
    priceAtRequest: dec('200.00'),
    position: dec(30),
    approvers: ['U0APPROVER1', 'U0APPROVER2'],
    deadline: new Date('2026-12-01T15:15:00.000Z'),
    ...overrides,
  };
}

describe('the approval request', () => {
  it('shows who, what, value, price at request, portfolio and position, with Approve and Reject', () => {
    const message = buildApprovalRequestMessage(request());
    const text = JSON.stringify(message);
    expect(text).toContain('<@U0TRADER>');
    expect(text).toContain('Buy 100 AAPL');
    expect(text).toContain('$20,150.00');
    expect(text).toContain('$200.00');
    expect(text).toContain('30 AAPL in Desk');
    expect(text).toContain('"action_id":"approval_approve:42"');
    expect(text).toContain('"action_id":"approval_reject:42"');
    expect(checkBlockKit('message', message)).toEqual([]);
  });

  it('once decided shows the outcome and no buttons, and the thread reply names the trader', () => {
    const decided = request({
      decision: { kind: 'reject', by: 'U0APPROVER1', at: new Date('2026-12-01T15:05:00.000Z'), reason: '*too* big' },
    });
    const message = buildApprovalRequestMessage(decided);
    expect(JSON.stringify(message)).not.toContain('approval_approve');
    expect(JSON.stringify(message)).toContain('Rejected by <@U0APPROVER1>');
    // The reason is the approver's text: shown, never read as markup.
    expect(JSON.stringify(message)).not.toContain(' *too* ');
    const reply = buildDecisionReply(decided);
    expect(reply.text).toMatch(/^<@U0TRADER> :x: Rejected by <@U0APPROVER1>/);
    expect(checkBlockKit('message', reply)).toEqual([]);
  });

  it('stays within Slack limits with a very long portfolio name and many approvers', () => {
    const message = buildApprovalRequestMessage(
      request({ portfolio: 'P'.repeat(80), approvers: Array.from({ length: 60 }, (_, i) => `U0APPROVER${i}`) }),
    );
    expect(checkBlockKit('message', message)).toEqual([]);
  });

  it('asks for the reason in a modal within the limits', () => {
    expect(checkBlockKit('modal', buildRejectModal(request()))).toEqual([]);
  });

  it('lists eight requests on the Home tab in at most 20 blocks, each with its own buttons', () => {
    const many = Array.from({ length: 8 }, (_, i) => request({ tradeId: i + 1 }));
    const blocks = buildHomeApprovalBlocks(many, [request({ tradeId: 99 })]);
    expect(blocks.length).toBeLessThanOrEqual(20);
    expect(checkBlockKit('home', { type: 'home', blocks })).toEqual([]);
    expect(buildHomeApprovalBlocks([], [])).toEqual([]);
  });

  it('counts every request awaiting the approver on the Home tab, not only the eight shown', () => {
    const eight = Array.from({ length: 8 }, (_, i) => request({ tradeId: i + 1 }));
    const text = JSON.stringify(buildHomeApprovalBlocks(eight, [], 12));
    expect(text).toContain('Awaiting your approval (12)');
    expect(text).toContain('and 4 more');
  });

  it('says an approved order is being sent, not that Alpaca took it', () => {
    const approved = request({
      decision: { kind: 'approve', by: 'U0APPROVER1', at: new Date('2026-12-01T15:05:00Z') },
    });
    const text = JSON.stringify(buildApprovalRequestMessage(approved));
    expect(text).toContain('— sending to Alpaca');
    expect(text).not.toContain('sent to Alpaca');
  });
});
