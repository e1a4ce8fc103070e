import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRepository, StoredApiKey } from '../db/repositories/api-key-repository';

/** Who an API request comes from: a key made with `npm run api-key`, or the earlier OMS's single key. */
export interface ApiCaller {
  /** Stable across requests (rate limits, idempotency): `key:<prefix>` or `legacy`. */
  id: string;
  name: string;
}

export interface ApiKeySummary {
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const KEY_PREFIX = 'oms';
/** Last-used times are written at most this often per key: a busy client should not mean a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares two secrets in constant time (by their digests, so lengths leak nothing either). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * API keys: made once and shown once (`oms_<prefix>_<secret>`), stored as a SHA-256 of the whole
 * key (the secret part is 32 random bytes, so a fast hash is enough), checked in constant time,
 * revocable. OMS_API_KEY, the earlier OMS's single key, is accepted too so old clients keep working.
 */
export class ApiKeyService {
  private readonly touched = new Map<number, number>();

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly legacyKey: string | undefined,
  ) {}

  async verify(presented: string | undefined): Promise<ApiCaller | undefined> {
    if (!presented) return undefined;
    if (this.legacyKey && sameSecret(presented, this.legacyKey)) return { id: 'legacy', name: 'OMS_API_KEY' };
    const prefix = /^oms_([A-Za-z0-9]{8,32})_[A-Za-z0-9_-]+$/.exec(presented)?.[1];
    if (!prefix) return undefined;
    const key = await this.keys.findByPrefix(prefix);
    if (!key || key.revokedAt || !timingSafeEqual(sha256(presented), Buffer.from(key.hash, 'hex'))) return undefined;
    await this.markUsed(key);
    return { id: `key:${key.prefix}`, name: key.name };
  }

  /** A new key; the only time its full text exists outside the client that keeps it. */
  async create(name: string): Promise<{ key: string; prefix: string }> {
    const prefix = randomBytes(6).toString('hex');
    const key = `${KEY_PREFIX}_${prefix}_${randomBytes(32).toString('base64url')}`;
    await this.keys.insertKey({ name: name.trim(), prefix, hash: sha256(key).toString('hex') });
    return { key, prefix };
  }

  async list(): Promise<ApiKeySummary[]> {
    return (await this.keys.listKeys()).map(({ name, prefix, createdAt, lastUsedAt, revokedAt }) => ({
      name,
      prefix,
      createdAt,
      lastUsedAt: lastUsedAt ?? null,
      revokedAt: revokedAt ?? null,
    }));
  }

  revoke(prefix: string): Promise<boolean> {
    return this.keys.revoke(prefix);
  }

  private async markUsed(key: StoredApiKey): Promise<void> {
    const last = this.touched.get(key.id) ?? 0;
    if (Date.now() - last < TOUCH_INTERVAL_MS) return;
    this.touched.set(key.id, Date.now());
    // "Last used" is for people listing keys: a failed write must not turn a valid request away.
    await this.keys.touch(key.id).catch(() => this.touched.delete(key.id));
  }
}
