import type { InputBlock, KnownBlock, ModalView, PlainTextInput, PlainTextOption, StaticSelect } from '@slack/web-api';
import {
  MAX_INPUT_HINT,
  MAX_INPUT_LABEL,
  MAX_MODAL_BUTTON_TEXT,
  MAX_MODAL_TITLE,
  MAX_OPTION_DESCRIPTION,
  MAX_OPTION_TEXT,
  MAX_OPTION_VALUE,
  MAX_PLACEHOLDER,
  MAX_STATIC_SELECT_OPTIONS,
  plainText,
  truncate,
} from './limits';

/** Modal building blocks shared by the order form and the adjustment form, each within Slack's limits. */

/** One choice of a select, radio buttons or checkboxes. */
export function option(text: string, value: string, description?: string): PlainTextOption {
  const choice: PlainTextOption = { text: plainText(text, MAX_OPTION_TEXT), value };
  if (description !== undefined) choice.description = plainText(description, MAX_OPTION_DESCRIPTION);
  return choice;
}

/** A select of at most Slack's 100 options (the initial one should be among them). */
export function staticSelect(actionId: string, options: PlainTextOption[], initial: PlainTextOption): StaticSelect {
  const offered = options.slice(0, MAX_STATIC_SELECT_OPTIONS);
  return { type: 'static_select', action_id: actionId, options: offered, initial_option: initial };
}

/** A text field; the initial value is cut to `maxLength`, as Slack refuses a longer one. */
export function textField(
  actionId: string,
  field: { placeholder: string; maxLength: number; initial?: string; multiline?: boolean },
): PlainTextInput {
  const element: PlainTextInput = {
    type: 'plain_text_input',
    action_id: actionId,
    placeholder: plainText(field.placeholder, MAX_PLACEHOLDER),
    max_length: field.maxLength,
  };
  if (field.multiline) element.multiline = true;
  if (field.initial) element.initial_value = truncate(field.initial, field.maxLength);
  return element;
}

/** An input block; `optional` is set only when given (Slack's default is required). */
export function inputBlock(
  blockId: string,
  label: string,
  element: InputBlock['element'],
  options: { hint?: string; optional?: boolean; dispatchAction?: boolean } = {},
): InputBlock {
  const block: InputBlock = { type: 'input', block_id: blockId, label: plainText(label, MAX_INPUT_LABEL), element };
  if (options.optional !== undefined) block.optional = options.optional;
  if (options.hint !== undefined) block.hint = plainText(options.hint, MAX_INPUT_HINT);
  if (options.dispatchAction) block.dispatch_action = true;
  return block;
}

export interface ModalContent {
  callbackId: string;
  title: string;
  /** No submit button without it (a form with nothing to submit). */
  submit?: string;
  close: string;
  privateMetadata: string;
  blocks: KnownBlock[];
}

export function modalView(content: ModalContent): ModalView {
  const view: ModalView = {
    type: 'modal',
    callback_id: content.callbackId,
    title: plainText(content.title, MAX_MODAL_TITLE),
    close: plainText(content.close, MAX_MODAL_BUTTON_TEXT),
    private_metadata: content.privateMetadata,
    blocks: content.blocks,
  };
  if (content.submit !== undefined) view.submit = plainText(content.submit, MAX_MODAL_BUTTON_TEXT);
  return view;
}

/**
 * Portfolio names a select can offer: the default first, then the others once each, at most
 * Slack's 100. A name too long to be an option's value is left out; `unlisted` counts what is.
 */
export function selectablePortfolios(
  defaultPortfolio: string,
  portfolios: readonly string[],
): { names: string[]; unlisted: number } {
  const all = [...new Set([defaultPortfolio, ...portfolios])].filter((name) => name.trim() !== '');
  const names = all.filter((name) => name.length <= MAX_OPTION_VALUE).slice(0, MAX_STATIC_SELECT_OPTIONS);
  return { names, unlisted: all.length - names.length };
}
