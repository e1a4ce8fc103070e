import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * `api_requests`: one row per Idempotency-Key (per API key): the body it came with and the answer
 * it got, so a retry with the same key and body gets the same order and status code, and a reuse
 * with another body is refused.
 */
export const ApiRequestEntity = defineEntity({
  name: 'ApiRequest',
  tableName: 'api_requests',
  properties: {
    id: p.integer().primary().autoincrement(),
    keyHash: p.string().length(64).unique(),
    requestHash: p.string().length(64),
    clientOrderId: p.string().length(128),
    /** How the first request ended (the API's outcome), once it has. */
    outcome: p.string().length(32).nullable(),
    createdAt: p.datetime(),
  },
});

export type ApiRequestRecord = InferEntity<typeof ApiRequestEntity>;
