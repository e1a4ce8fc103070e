import type { KnownBlock, MrkdwnElement, PlainTextElement } from '@slack/web-api';

/**
 * Block Kit limits Slack enforces (a payload over any of them is refused with `invalid_blocks`),
 * from DESIGN.md "Platform facts" and Slack's Block Kit reference. Every builder in this folder
 * clamps user-supplied text with the helpers below so no input can push a view over them.
 */
export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_VIEW_BLOCKS = 100;
export const MAX_MESSAGE_TEXT = 40_000;
export const MAX_SECTION_TEXT = 3000;
export const MAX_SECTION_FIELDS = 10;
export const MAX_SECTION_FIELD_TEXT = 2000;
export const MAX_HEADER_TEXT = 150;
export const MAX_MODAL_TITLE = 24;
export const MAX_MODAL_BUTTON_TEXT = 24;
export const MAX_CONTEXT_ELEMENTS = 10;
export const MAX_CONTEXT_TEXT = 3000;
export const MAX_ACTIONS_ELEMENTS = 25;
export const MAX_BUTTON_TEXT = 75;
export const MAX_BUTTON_VALUE = 2000;
export const MAX_OPTION_TEXT = 75;
export const MAX_OPTION_VALUE = 150;
export const MAX_OPTION_DESCRIPTION = 75;
export const MAX_STATIC_SELECT_OPTIONS = 100;
export const MAX_RADIO_OR_CHECKBOX_OPTIONS = 10;
export const MAX_PLACEHOLDER = 150;
export const MAX_INPUT_LABEL = 2000;
export const MAX_INPUT_HINT = 2000;
export const MAX_TEXT_INPUT_LENGTH = 3000;
export const MAX_PRIVATE_METADATA = 3000;
export const MAX_ID_LENGTH = 255;
export const MAX_CONFIRM_TITLE = 100;
export const MAX_CONFIRM_TEXT = 300;
export const MAX_CONFIRM_BUTTON = 30;

/** A message as chat.postMessage / chat.update / respond take it; `text` is the notification fallback. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

const ELLIPSIS = '…';

/**
 * Cuts `text` to at most `max` UTF-16 units (Slack's measure), ending with '…' when cut.
 * Cuts between code points so an emoji is never split into a lone surrogate.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let kept = '';
  for (const codePoint of text) {
    if (kept.length + codePoint.length + ELLIPSIS.length > max) break;
    kept += codePoint;
  }
  return kept + ELLIPSIS;
}

/** Slack refuses empty text objects; an absent value is shown as a dash instead. */
function nonEmpty(text: string): string {
  return text.length === 0 ? '—' : text;
}

export function plainText(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: truncate(nonEmpty(text), max), emoji: true };
}

export function mrkdwn(text: string, max: number): MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(nonEmpty(text), max) };
}

/** A section field: the label in bold, the value on the line below. */
export function sectionField(label: string, value: string): MrkdwnElement {
  return mrkdwn(`*${label}*\n${value}`, MAX_SECTION_FIELD_TEXT);
}

/**
 * Escapes the three characters Slack treats as control sequences in mrkdwn, so user-typed text
 * (portfolio names, broker messages) can never become a mention, a link or `<!channel>`.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** User text for mrkdwn: cut to `max` characters first (so no entity is split), then escaped. */
export function userMrkdwn(text: string, max: number): string {
  return escapeMrkdwn(truncate(text, max));
}
