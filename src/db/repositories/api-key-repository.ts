import { ApiKeyEntity, type ApiKeyRecord, ApiRequestEntity, type ApiRequestRecord } from '../entities';
import type { Orm } from '../orm';

/** Rows as stored: nothing to convert, these are the repository's own records. */
export type StoredApiKey = ApiKeyRecord;
export type StoredApiRequest = ApiRequestRecord;

/** `api_keys` (hashes only) and `api_requests` (what each Idempotency-Key was first used for). */
export class ApiKeyRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async insertKey(key: { name: string; prefix: string; hash: string }): Promise<StoredApiKey> {
    const em = this.orm.em.fork();
    const id = await em.insert(ApiKeyEntity, { ...key, createdAt: this.now() });
    return em.findOneOrFail(ApiKeyEntity, { id });
  }

  async findByPrefix(prefix: string): Promise<StoredApiKey | undefined> {
    return (await this.orm.em.fork().findOne(ApiKeyEntity, { prefix })) ?? undefined;
  }

  async listKeys(): Promise<StoredApiKey[]> {
    return this.orm.em.fork().find(ApiKeyEntity, {}, { orderBy: { id: 'asc' } });
  }

  /** True when a key with this prefix was live and is now revoked. */
  async revoke(prefix: string): Promise<boolean> {
    return (
      (await this.orm.em.fork().nativeUpdate(ApiKeyEntity, { prefix, revokedAt: null }, { revokedAt: this.now() })) > 0
    );
  }

  async touch(id: number): Promise<void> {
    await this.orm.em.fork().nativeUpdate(ApiKeyEntity, { id }, { lastUsedAt: this.now() });
  }

  /**
   * Claims an Idempotency-Key: the first request to insert its row owns it (created = true); any
   * other finds the row the first one wrote.
   */
  async claimRequest(
    request: Pick<StoredApiRequest, 'keyHash' | 'requestHash' | 'clientOrderId'>,
  ): Promise<{ created: boolean; request: StoredApiRequest }> {
    const em = this.orm.em.fork();
    const result = await em
      .createQueryBuilder(ApiRequestEntity)
      .insert({ ...request, outcome: null, createdAt: this.now() })
      .onConflict('keyHash')
      .ignore()
      .execute('run');
    const row = await em.findOneOrFail(ApiRequestEntity, { keyHash: request.keyHash }, { refresh: true });
    return { created: result.affectedRows > 0, request: row };
  }

  async findRequest(keyHash: string): Promise<StoredApiRequest | undefined> {
    return (await this.orm.em.fork().findOne(ApiRequestEntity, { keyHash })) ?? undefined;
  }

  /** Records the key's answer unless one already is; returns the answer that stands. */
  async answerRequest(keyHash: string, outcome: string): Promise<string> {
    const em = this.orm.em.fork();
    await em.nativeUpdate(ApiRequestEntity, { keyHash, outcome: null }, { outcome });
    return (await em.findOne(ApiRequestEntity, { keyHash }))?.outcome ?? outcome;
  }

  /** The key is free again (its request made no order, or failed before it could). */
  async forgetRequest(keyHash: string): Promise<void> {
    await this.orm.em.fork().nativeDelete(ApiRequestEntity, { keyHash });
  }
}
