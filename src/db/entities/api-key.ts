import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * `api_keys`: keys for the HTTP API, made with `npm run api-key -- create <name>`. Only a hash of
 * each key is kept; the prefix (the key's public first part) finds the row to compare against.
 */
export const ApiKeyEntity = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100),
    prefix: p.string().length(32).unique(),
    hash: p.string().length(64),
    createdAt: p.datetime(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});

export type ApiKeyRecord = InferEntity<typeof ApiKeyEntity>;
