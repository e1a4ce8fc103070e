import type { KnownBlock, ModalView } from '@slack/web-api';
import { type Dec, formatQty } from '../../domain/money';
import { inputBlock, modalView, option, selectablePortfolios, staticSelect, textField } from '../block-kit/inputs';
import { MAX_PRIVATE_METADATA, sectionBlock, truncate } from '../block-kit/limits';
import type { AlertRef } from './reconcile-alert';

export const RECONCILE_ADOPT_CALLBACK_ID = 'reconcile_adopt_modal';

export const ADOPT_FIELDS = {
  finding: { blockId: 'finding', actionId: 'finding_choice' },
  portfolio: { blockId: 'portfolio', actionId: 'portfolio_choice' },
  reason: { blockId: 'reason', actionId: 'reason_text' },
} as const;

/** Long enough for a sentence or a ticket reference; the audit trail keeps it verbatim. */
export const MAX_REASON_LENGTH = 500;
const REASON_EXAMPLE = 'e.g. bought 5 AAPL by hand in the Alpaca dashboard for the Growth book';

export interface AdoptChoice {
  discrepancyId: number;
  symbol: string;
  booksQty: Dec;
  brokerQty: Dec;
  difference: Dec;
}

export interface AdoptModalState {
  findings: readonly AdoptChoice[];
  portfolios: readonly string[];
  defaultPortfolio: string;
  /** Where the alert is, so the submission can answer in its thread. */
  alert: AlertRef;
}

function findingLabel(f: AdoptChoice): string {
  const sign = f.difference.isPositive() && !f.difference.isZero() ? '+' : '';
  return (
    `${f.symbol}: books ${formatQty(f.booksQty)} → ` +
    `Alpaca ${formatQty(f.brokerQty)} (${sign}${formatQty(f.difference)})`
  );
}

export function adoptModalMetadata(alert: AlertRef): string {
  return truncate(JSON.stringify({ c: alert.channelId, t: alert.messageTs }), MAX_PRIVATE_METADATA);
}

export function readAdoptModalMetadata(raw: string | undefined): AlertRef | undefined {
  try {
    const parsed = JSON.parse(raw || '{}') as { c?: unknown; t?: unknown };
    return typeof parsed.c === 'string' && typeof parsed.t === 'string'
      ? { channelId: parsed.c, messageTs: parsed.t }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * "Adopt broker quantity into portfolio…": which finding, which portfolio takes the
 * difference, and why (required: it goes into the audit trail).
 */
export function buildAdoptModal(state: AdoptModalState): ModalView {
  const { findings } = state;
  const { names } = selectablePortfolios(state.defaultPortfolio, state.portfolios);
  const blocks: KnownBlock[] = [
    sectionBlock(
      'Books an *audited adjustment* so the books hold what Alpaca holds. The whole difference goes into ' +
        'the portfolio you choose, at Alpaca’s average entry price, recorded with your name and reason.',
    ),
  ];
  const first = findings[0];
  const initialPortfolio = names.includes(state.defaultPortfolio) ? state.defaultPortfolio : names[0];
  if (first && initialPortfolio !== undefined) {
    const findingOption = (f: AdoptChoice) => option(findingLabel(f), String(f.discrepancyId));
    const portfolioOption = (name: string) => option(name, name);
    blocks.push(
      inputBlock(
        ADOPT_FIELDS.finding.blockId,
        'Symbol',
        staticSelect(ADOPT_FIELDS.finding.actionId, findings.map(findingOption), findingOption(first)),
      ),
      inputBlock(
        ADOPT_FIELDS.portfolio.blockId,
        'Portfolio that takes the difference',
        staticSelect(ADOPT_FIELDS.portfolio.actionId, names.map(portfolioOption), portfolioOption(initialPortfolio)),
      ),
      inputBlock(
        ADOPT_FIELDS.reason.blockId,
        'Reason',
        textField(ADOPT_FIELDS.reason.actionId, {
          placeholder: REASON_EXAMPLE,
          maxLength: MAX_REASON_LENGTH,
          multiline: true,
        }),
        { hint: 'Required. Who placed the order, the ticket, what was checked at the broker…' },
      ),
    );
  } else {
    blocks.push(sectionBlock('Nothing is open in this alert any more: the books already match Alpaca.'));
  }
  return modalView({
    callbackId: RECONCILE_ADOPT_CALLBACK_ID,
    title: 'Adopt broker quantity',
    ...(first ? { submit: 'Book adjustment' } : {}),
    close: 'Cancel',
    privateMetadata: adoptModalMetadata(state.alert),
    blocks,
  });
}

type SubmittedValue = { value?: string | null; selected_option?: { value?: string } | null };

export interface AdoptForm {
  discrepancyId: number | undefined;
  portfolioName: string;
  reason: string;
}

export function readAdoptForm(values: Record<string, Record<string, SubmittedValue>>): AdoptForm {
  const entry = (field: keyof typeof ADOPT_FIELDS) =>
    values[ADOPT_FIELDS[field].blockId]?.[ADOPT_FIELDS[field].actionId];
  const id = Number(entry('finding')?.selected_option?.value);
  return {
    discrepancyId: Number.isInteger(id) && id > 0 ? id : undefined,
    portfolioName: entry('portfolio')?.selected_option?.value ?? '',
    reason: entry('reason')?.value ?? '',
  };
}

/** Field errors for the submission's ack; empty when the form can go ahead. */
export function adoptFormErrors(form: AdoptForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (form.discrepancyId === undefined) errors[ADOPT_FIELDS.finding.blockId] = 'Choose the symbol to adjust.';
  if (form.portfolioName.trim() === '')
    errors[ADOPT_FIELDS.portfolio.blockId] = 'Choose the portfolio that takes the difference.';
  if (form.reason.trim().length < 3)
    errors[ADOPT_FIELDS.reason.blockId] = 'Say why — the reason is kept with the adjustment.';
  return errors;
}
