import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { AlpacaBroker } from './alpaca-broker';
import type { Broker } from './broker';
import { CachedBroker } from './cached-broker';
import { LedgerBroker } from './ledger-broker';

/** The one broker the app uses: Alpaca behind the caches, or the network-free ledger broker. */
export function createBroker(config: Config, logger: Logger, metrics?: Metrics): Broker {
  if (!config.useAlpaca) return new LedgerBroker();
  const { keyId, secretKey, baseUrl, dataUrl, streamUrl, dataFeed } = config.alpaca;
  return new CachedBroker(
    new AlpacaBroker({ keyId, secretKey, baseUrl, dataUrl, streamUrl, dataFeed, logger, metrics }),
  );
}
