import type {
  ContextBlock,
  HeaderBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/web-api';

/**
 * Block Kit limits Slack enforces (a payload over any of them is refused with `invalid_blocks`),
 * as Slack's Block Kit reference states them. Every builder clamps user-supplied text with the
 * helpers below so no input can push a view over them.
 */
export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
export const MAX_SECTION_FIELD_TEXT = 2000;
export const MAX_HEADER_TEXT = 150;
export const MAX_MODAL_TITLE = 24;
export const MAX_MODAL_BUTTON_TEXT = 24;
export const MAX_CONTEXT_TEXT = 3000;
export const MAX_BUTTON_TEXT = 75;
export const MAX_BUTTON_VALUE = 2000;
export const MAX_OPTION_TEXT = 75;
export const MAX_OPTION_VALUE = 150;
export const MAX_OPTION_DESCRIPTION = 75;
export const MAX_STATIC_SELECT_OPTIONS = 100;
export const MAX_PLACEHOLDER = 150;
export const MAX_INPUT_LABEL = 2000;
export const MAX_INPUT_HINT = 2000;
export const MAX_PRIVATE_METADATA = 3000;
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

/**
 * Always `verbatim`: Slack then turns no URL, channel name or @name in the text into a link or a
 * mention, so user and broker text shows as typed, while our own markup and the `<@U…>` / `<#C…>`
 * we write on purpose still work. None of our text relies on that auto-detection.
 */
export function mrkdwn(text: string, max: number): MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(nonEmpty(text), max), verbatim: true };
}

/** A section of mrkdwn text, the most common block of all. */
export function sectionBlock(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text, MAX_SECTION_TEXT) };
}

/** One line of small print: a context block of mrkdwn. */
export function contextBlock(text: string): ContextBlock {
  return { type: 'context', elements: [mrkdwn(text, MAX_CONTEXT_TEXT)] };
}

export function headerBlock(text: string): HeaderBlock {
  return { type: 'header', text: plainText(text, MAX_HEADER_TEXT) };
}

/** A section field: the label in bold, the value on the line below. */
export function sectionField(label: string, value: string): MrkdwnElement {
  return mrkdwn(`*${label}*\n${value}`, MAX_SECTION_FIELD_TEXT);
}

/**
 * The three characters Slack reads as control sequences: as entities, text can never become a
 * mention, a link or `<!channel>`.
 */
function escapeEntities(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Slack has no escape for its formatting characters, so they are shown as characters that look the
 * same (jsx-slack's choice).
 */
const LOOK_ALIKES: Record<string, string> = { '*': '\u2217', _: '\u02cd', '~': '\u223c', '`': '\u02cb' };
// *, _ and ~ format only at a word's edge, so "snake_case" keeps its underscore; a backtick anywhere.
const FORMATTING = /`|[*_~](?![\p{L}\p{N}])|(?<![\p{L}\p{N}])[*_~]/gu;

/**
 * User or broker text (portfolio names, broker messages) for mrkdwn, shown as typed: &, < and > as
 * entities, formatting characters as look-alikes, and a ">" that starts a line kept from quoting
 * it (behind an invisible soft hyphen).
 */
export function escapeMrkdwn(text: string): string {
  return escapeEntities(text)
    .replace(FORMATTING, (c) => LOOK_ALIKES[c]!)
    .replace(/^&gt;/gm, '\u00ad&gt;');
}

/** User text for mrkdwn: cut to `max` characters first (so no entity is split), then escaped. */
export function userMrkdwn(text: string, max: number): string {
  return escapeMrkdwn(truncate(text, max));
}

/**
 * User text inside a code span or block, where Slack formats nothing: kept as typed, except for
 * &, < and > as entities and a backtick, which would end the code, as a look-alike.
 */
export function codeMrkdwn(text: string, max: number): string {
  return escapeEntities(truncate(text, max)).replace(/`/g, LOOK_ALIKES['`']!);
}
