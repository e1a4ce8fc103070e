import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/web-api';
import { formatQty, type Dec } from '../../domain/money';
import {
  MAX_INPUT_HINT,
  MAX_INPUT_LABEL,
  MAX_MODAL_BUTTON_TEXT,
  MAX_MODAL_TITLE,
  MAX_OPTION_TEXT,
  MAX_OPTION_VALUE,
  MAX_PLACEHOLDER,
  MAX_PRIVATE_METADATA,
  MAX_SECTION_TEXT,
  MAX_STATIC_SELECT_OPTIONS,
  mrkdwn,
  plainText,
  truncate,
} from '../block-kit/limits';

export const RECONCILE_ADOPT_CALLBACK_ID = 'reconcile_adopt_modal';

export const ADOPT_FIELDS = {
  finding: { blockId: 'finding', actionId: 'finding_choice' },
  portfolio: { blockId: 'portfolio', actionId: 'portfolio_choice' },
  reason: { blockId: 'reason', actionId: 'reason_text' },
} as const;

/** Long enough for a sentence or a ticket reference; the audit trail keeps it verbatim. */
export const MAX_REASON_LENGTH = 500;

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
  alert: { channelId: string; messageTs: string };
}

function option(text: string, value: string): PlainTextOption {
  return { text: plainText(text, MAX_OPTION_TEXT), value };
}

function findingLabel(f: AdoptChoice): string {
  const sign = f.difference.isPositive() && !f.difference.isZero() ? '+' : '';
  return `${f.symbol}: books ${formatQty(f.booksQty)} → Alpaca ${formatQty(f.brokerQty)} (${sign}${formatQty(f.difference)})`;
}

export function adoptModalMetadata(alert: { channelId: string; messageTs: string }): string {
  return truncate(JSON.stringify({ c: alert.channelId, t: alert.messageTs }), MAX_PRIVATE_METADATA);
}

export function readAdoptModalMetadata(raw: string | undefined): { channelId: string; messageTs: string } | undefined {
  try {
    const parsed = JSON.parse(raw || '{}') as { c?: unknown; t?: unknown };
    return typeof parsed.c === 'string' && typeof parsed.t === 'string' ? { channelId: parsed.c, messageTs: parsed.t } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * "Adopt broker quantity into portfolio…": which finding, which portfolio takes the
 * difference, and why (required: it goes into the audit trail).
 */
export function buildAdoptModal(state: AdoptModalState): ModalView {
  const findings = state.findings.slice(0, MAX_STATIC_SELECT_OPTIONS);
  const names = [...new Set([state.defaultPortfolio, ...state.portfolios])].filter((n) => n.trim() !== '' && n.length <= MAX_OPTION_VALUE).slice(0, MAX_STATIC_SELECT_OPTIONS);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(
        'Books an *audited adjustment* so the books hold what Alpaca holds. The whole difference goes into the portfolio you choose, at Alpaca’s average entry price, recorded with your name and reason.',
        MAX_SECTION_TEXT,
      ),
    },
  ];
  const first = findings[0];
  const initialPortfolio = names.includes(state.defaultPortfolio) ? state.defaultPortfolio : names[0];
  if (first && initialPortfolio !== undefined) {
    const findingInput: InputBlock = {
      type: 'input',
      block_id: ADOPT_FIELDS.finding.blockId,
      label: plainText('Symbol', MAX_INPUT_LABEL),
      element: {
        type: 'static_select',
        action_id: ADOPT_FIELDS.finding.actionId,
        options: findings.map((f) => option(findingLabel(f), String(f.discrepancyId))),
        initial_option: option(findingLabel(first), String(first.discrepancyId)),
      },
    };
    const portfolioInput: InputBlock = {
      type: 'input',
      block_id: ADOPT_FIELDS.portfolio.blockId,
      label: plainText('Portfolio that takes the difference', MAX_INPUT_LABEL),
      element: {
        type: 'static_select',
        action_id: ADOPT_FIELDS.portfolio.actionId,
        options: names.map((n) => option(n, n)),
        initial_option: option(initialPortfolio, initialPortfolio),
      },
    };
    const reasonInput: InputBlock = {
      type: 'input',
      block_id: ADOPT_FIELDS.reason.blockId,
      label: plainText('Reason', MAX_INPUT_LABEL),
      hint: plainText('Required. Who placed the order, the ticket, what was checked at the broker…', MAX_INPUT_HINT),
      element: {
        type: 'plain_text_input',
        action_id: ADOPT_FIELDS.reason.actionId,
        multiline: true,
        max_length: MAX_REASON_LENGTH,
        placeholder: plainText('e.g. bought 5 AAPL by hand in the Alpaca dashboard for the Growth book', MAX_PLACEHOLDER),
      },
    };
    blocks.push(findingInput, portfolioInput, reasonInput);
  } else {
    blocks.push({ type: 'section', text: mrkdwn('Nothing is open in this alert any more: the books already match Alpaca.', MAX_SECTION_TEXT) });
  }
  const view: ModalView = {
    type: 'modal',
    callback_id: RECONCILE_ADOPT_CALLBACK_ID,
    title: plainText('Adopt broker quantity', MAX_MODAL_TITLE),
    close: plainText('Cancel', MAX_MODAL_BUTTON_TEXT),
    private_metadata: adoptModalMetadata(state.alert),
    blocks,
  };
  if (first) view.submit = plainText('Book adjustment', MAX_MODAL_BUTTON_TEXT);
  return view;
}

type SubmittedValue = { value?: string | null; selected_option?: { value?: string } | null };

export interface AdoptForm {
  discrepancyId: number | undefined;
  portfolioName: string;
  reason: string;
}

export function readAdoptForm(values: Record<string, Record<string, SubmittedValue>>): AdoptForm {
  const entry = (field: keyof typeof ADOPT_FIELDS) => values[ADOPT_FIELDS[field].blockId]?.[ADOPT_FIELDS[field].actionId];
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
  if (form.portfolioName.trim() === '') errors[ADOPT_FIELDS.portfolio.blockId] = 'Choose the portfolio that takes the difference.';
  if (form.reason.trim().length < 3) errors[ADOPT_FIELDS.reason.blockId] = 'Say why — the reason is kept with the adjustment.';
  return errors;
}
