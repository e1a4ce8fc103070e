import { FillEntity } from './fill';
import { PortfolioEntity } from './portfolio';
import { PositionEntity } from './position';
import { TradeEntity } from './trade';
import { UserPreferenceEntity } from './user-preference';

export { FillEntity, PortfolioEntity, PositionEntity, TradeEntity, UserPreferenceEntity };
export type { FillRecord, FillSource } from './fill';
export type { PortfolioRecord } from './portfolio';
export type { PositionRecord } from './position';
export type { StoredSide, TradeRecord, TradeSource } from './trade';
export type { UserPreferenceRecord } from './user-preference';

export const ENTITIES = [TradeEntity, FillEntity, PortfolioEntity, PositionEntity, UserPreferenceEntity];
