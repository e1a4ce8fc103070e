import { readDatabaseTarget, readOrExit } from './config';
import { initORM, migrateToLatest } from './db/orm';
import { ApiKeyRepository } from './db/repositories/api-key-repository';
import { describeError } from './domain/errors';
import { ApiKeyService } from './services/api-keys';

const USAGE = `Usage: npm run api-key -- create <name> | list | revoke <prefix>

  create <name>    makes a key for the HTTP API and prints it once (only its hash is kept)
  list             the keys: name, prefix, created, last used, revoked
  revoke <prefix>  the key stops working at once
`;

/** `npm run api-key`: the HTTP API's keys, in the configured database. Needs only DATABASE_URL. */
async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command !== 'create' && command !== 'list' && command !== 'revoke') {
    process.stderr.write(USAGE);
    return 2;
  }
  const orm = await initORM(readOrExit(readDatabaseTarget));
  try {
    await migrateToLatest(orm);
    const keys = new ApiKeyService(new ApiKeyRepository(orm), undefined);
    if (command === 'create') {
      const name = rest.join(' ').trim();
      if (!name) {
        process.stderr.write('Give the key a name, e.g. npm run api-key -- create "nightly export".\n');
        return 2;
      }
      const created = await keys.create(name);
      process.stdout.write(
        `API key "${name}" (prefix ${created.prefix}):\n\n  ${created.key}\n\n` +
          'Send it as the X-API-Key header. It is shown this once: only a hash of it is kept.\n',
      );
      return 0;
    }
    if (command === 'list') {
      const listed = await keys.list();
      if (listed.length === 0) process.stdout.write('No API keys yet: npm run api-key -- create <name>.\n');
      for (const key of listed) {
        const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active';
        const used = key.lastUsedAt ? `last used ${key.lastUsedAt.toISOString()}` : 'never used';
        process.stdout.write(`${key.prefix}  ${key.name}  created ${key.createdAt.toISOString()}, ${used}, ${state}\n`);
      }
      return 0;
    }
    const prefix = rest[0]?.trim() ?? '';
    if (!(await keys.revoke(prefix))) {
      process.stderr.write(`No active key has the prefix "${prefix}" (npm run api-key -- list shows them).\n`);
      return 1;
    }
    process.stdout.write(`Revoked the key with prefix ${prefix}: it no longer works.\n`);
    return 0;
  } finally {
    await orm.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`api-key failed: ${describeError(err)}\n`);
    process.exit(1);
  },
);
