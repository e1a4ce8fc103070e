import type { InFlightWork } from '../../lifecycle';
import type { Metrics } from '../../metrics';
import type { ApiKeyService } from '../../services/api-keys';
import type { ApiOrderService } from '../../services/api-orders';
import type { OrderCanceller } from '../../services/order-cancel';
import type { OrderEntryService } from '../../services/order-entry';
import type { OrderQueries } from '../../services/order-queries';
import type { PortfolioService } from '../../services/portfolio-service';
import type { TraderPnlService } from '../../services/trader-pnl';

/** What the API's routes may use: the same services Slack uses, and who may trade. */
export interface ApiDeps {
  keys: ApiKeyService;
  orders: ApiOrderService;
  queries: OrderQueries;
  entry: OrderEntryService;
  canceller: OrderCanceller;
  portfolio: PortfolioService;
  traderPnl: Pick<TraderPnlService, 'report'>;
  /** TRADER_USER_IDS, as Slack applies it. */
  mayTrade(userId: string): boolean;
  /** Per API key. */
  requestsPerMinute: number;
  /** Orders being placed are finished (or left to settle) before the process stops. */
  inFlight: InFlightWork;
  metrics: Metrics;
}
