import { ApiKeyEntity } from './api-key';
import { ApiRequestEntity } from './api-request';
import { ApprovalEntity } from './approval';
import { BookAdjustmentEntity } from './book-adjustment';
import { DigestEntity } from './digest';
import { DiscrepancyEntity } from './discrepancy';
import { FillEntity } from './fill';
import { OutboxEntryEntity } from './outbox-entry';
import { PortfolioEntity } from './portfolio';
import { PositionEntity } from './position';
import { ReconcileRunEntity } from './reconcile-run';
import { TradeEntity } from './trade';
import { UserPreferenceEntity } from './user-preference';

export type { ApiKeyRecord } from './api-key';
export type { ApiRequestRecord } from './api-request';
export type { ApprovalRecord } from './approval';
export type { BookAdjustmentRecord } from './book-adjustment';
export type { DigestRecord } from './digest';
export type { DiscrepancyRecord } from './discrepancy';
export type { FillRecord } from './fill';
export type { OutboxEntryRecord } from './outbox-entry';
export type { PortfolioRecord } from './portfolio';
export type { PositionRecord } from './position';
export type { ReconcileRunRecord } from './reconcile-run';
export type { StoredSide, TradeRecord } from './trade';
export type { UserPreferenceRecord } from './user-preference';
export {
  ApiKeyEntity,
  ApiRequestEntity,
  ApprovalEntity,
  BookAdjustmentEntity,
  DigestEntity,
  DiscrepancyEntity,
  FillEntity,
  OutboxEntryEntity,
  PortfolioEntity,
  PositionEntity,
  ReconcileRunEntity,
  TradeEntity,
  UserPreferenceEntity,
};

export const ENTITIES = [
  TradeEntity,
  FillEntity,
  PortfolioEntity,
  PositionEntity,
  UserPreferenceEntity,
  ReconcileRunEntity,
  DiscrepancyEntity,
  BookAdjustmentEntity,
  OutboxEntryEntity,
  ApiKeyEntity,
  ApiRequestEntity,
  DigestEntity,
  ApprovalEntity,
];
