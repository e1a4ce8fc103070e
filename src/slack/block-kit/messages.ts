import { MAX_SECTION_TEXT, type SlackMessage, sectionBlock, userMrkdwn } from './limits';

/** A refusal or a failure, in a sentence, for whoever asked (every surface answers errors this way). */
export function buildErrorMessage(text: string): SlackMessage {
  const safe = userMrkdwn(text, MAX_SECTION_TEXT - 20);
  return { text: safe, blocks: [sectionBlock(`:warning: ${safe}`)] };
}
