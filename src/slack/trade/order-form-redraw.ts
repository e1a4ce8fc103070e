import type { WebClient } from '@slack/web-api';
import { DEFAULT_PORTFOLIO } from '../../domain/portfolio-name';
import type { OrderPrefill } from '../../domain/trade-command';
import { slackErrorCode } from '../block-kit/slack-errors';
import type { ListenerDeps } from '../deps';
import { prefillFromView, readTradeModalMetadata, type StateValues, tradeModalMetadata } from './form-state';
import { buildTradeModal, type TradeModalContext } from './order-modal';
import { modalContext } from './order-submission';

/** A type switch redraws at once with whatever context the caches hold by then, not after a slow Alpaca. */
const CONTEXT_BUDGET_MS = 700;

export interface OpenOrderForm {
  id: string;
  hash?: string;
  private_metadata?: string;
  state?: { values: StateValues };
}

/** Past this, a view's newest action is forgotten: a Slack modal's interactions are long over by then. */
const REMEMBER_ACTIONS_MS = 60 * 60 * 1000;

/**
 * Redraws the open order form from everything entered so far (shown fields from the state, hidden
 * ones from the metadata), with the fields the chosen type needs and the symbol's live context.
 *
 * Two quick changes (Limit, then Stop) both carry the view's hash from before either redraw: once
 * the older one's update lands, Slack refuses the newer with hash_conflict. So the newest action
 * per view (by action_ts: Slack may deliver out of order) is remembered; its redraw, built from its
 * own state, is sent again without the hash after a conflict, and an older action's is dropped.
 * Per process: with several instances, actions on one view can still race across them.
 */
export class OrderFormRedraws {
  /** View id → action_ts of the newest action seen on it. */
  private readonly newest = new Map<string, string>();

  constructor(private readonly deps: ListenerDeps) {}

  async redraw(
    client: WebClient,
    view: OpenOrderForm,
    actionTs: string,
    options: { waitForContext: boolean },
  ): Promise<void> {
    if (!this.claimNewest(view.id, actionTs)) return;
    const next = await this.build(view, options);
    if (this.newest.get(view.id) !== actionTs) return;
    try {
      await client.views.update({ view_id: view.id, hash: view.hash, view: next });
    } catch (err) {
      if (slackErrorCode(err) !== 'hash_conflict' || this.newest.get(view.id) !== actionTs) {
        this.deps.logger.debug({ error: slackErrorCode(err) }, 'order form redraw not applied');
        return;
      }
      // An earlier redraw landed first: this newest action's state is the current one.
      await client.views.update({ view_id: view.id, view: next }).catch((retryErr: unknown) => {
        this.deps.logger.debug({ error: slackErrorCode(retryErr) }, 'order form redraw not applied');
      });
    }
  }

  /** Records `actionTs` as the view's newest action, unless a newer one has been seen. */
  private claimNewest(viewId: string, actionTs: string): boolean {
    const cutoff = BigInt(Date.now() - REMEMBER_ACTIONS_MS) * 1000n;
    for (const [id, ts] of this.newest) if (tsMicros(ts) < cutoff) this.newest.delete(id);
    const seen = this.newest.get(viewId);
    if (seen !== undefined && tsMicros(seen) > tsMicros(actionTs)) return false;
    this.newest.set(viewId, actionTs);
    return true;
  }

  private async build(view: OpenOrderForm, options: { waitForContext: boolean }) {
    const { deps } = this;
    const prefill: OrderPrefill = prefillFromView(view);
    const contextFor = async (): Promise<TradeModalContext | undefined> => {
      const full = prefill.symbol ? modalContext(deps, prefill.symbol, prefill) : marketOnly(deps);
      if (options.waitForContext) return full;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), CONTEXT_BUDGET_MS);
      });
      return Promise.race([full.catch(() => undefined), late]).finally(() => clearTimeout(timer));
    };
    const [portfolios, context] = await Promise.all([deps.orderEntry.portfolioNames(), contextFor()]);
    const { channelId } = readTradeModalMetadata(view.private_metadata);
    return buildTradeModal({
      prefill,
      portfolios,
      defaultPortfolio: DEFAULT_PORTFOLIO,
      context,
      ledgerOnly: deps.orderEntry.ledgerOnly,
      privateMetadata: tradeModalMetadata({ channelId, prefill }),
    });
  }
}

/** A Slack timestamp ("1764646012.123456") in microseconds: exact, where a double is not. */
function tsMicros(ts: string): bigint {
  const match = /^(\d+)(?:\.(\d*))?$/.exec(ts);
  if (!match) return 0n;
  return BigInt(match[1]!) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0').slice(0, 6));
}

async function marketOnly(deps: ListenerDeps): Promise<TradeModalContext | undefined> {
  const market = await deps.orderEntry.market();
  return market ? { market } : undefined;
}
