import { FillEntity } from './fill';
import { PortfolioEntity } from './portfolio';
import { TradeEntity } from './trade';

export { FillEntity, PortfolioEntity, TradeEntity };
export type { FillRecord, FillSource } from './fill';
export type { PortfolioRecord } from './portfolio';
export type { StoredSide, TradeRecord, TradeSource } from './trade';

export const ENTITIES = [TradeEntity, FillEntity, PortfolioEntity];
