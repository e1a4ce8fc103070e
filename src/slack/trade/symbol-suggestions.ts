import type { AllMiddlewareArgs, BlockSuggestion, SlackOptionsMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps';
import { buildSymbolOptions } from './order-modal';

/**
 * The symbol type-ahead: each keystroke's block_suggestion is answered from the in-memory index
 * (Slack waits 3 s at most). Before the asset list has loaded — or in ledger-only mode, where there
 * is none — the typed text is offered as is, so the form never blocks anyone; it is validated on
 * submit like any symbol.
 */
export function symbolSuggestions(deps: ListenerDeps) {
  return async ({ ack, payload }: SlackOptionsMiddlewareArgs<'block_suggestion'> & AllMiddlewareArgs) => {
    const typed = (payload as BlockSuggestion).value ?? '';
    const found = deps.symbols.suggest(typed);
    await ack(buildSymbolOptions({ typed, matches: found.matches, offerTyped: !found.exact }));
  };
}
