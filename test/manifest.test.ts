import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const schemaDir = path.resolve(repoRoot, '..', 'shared', 'slack-manifest-schema');
const schemaPath = path.join(schemaDir, 'manifest.schema.1.0.0.json');
const schemaAvailable = existsSync(schemaPath);

interface SlashCommand {
  command: string;
  description: string;
  usage_hint?: string;
  url?: string;
}

interface Manifest {
  _metadata: { major_version: number; minor_version: number };
  display_information: { name: string; background_color?: string };
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean; messages_tab_read_only_enabled: boolean };
    bot_user: { display_name: string; always_online: boolean };
    slash_commands: SlashCommand[];
  };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: {
    event_subscriptions: { bot_events: string[]; request_url?: string };
    interactivity: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled: boolean;
    org_deploy_enabled: boolean;
    token_rotation_enabled: boolean;
  };
}

const manifestText = readFileSync(path.join(repoRoot, 'manifest.json'), 'utf8');
const manifest = JSON.parse(manifestText) as Manifest;

function compileManifestValidator() {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  // The published schema is draft-07 (Ajv's default draft) and uses non-standard keywords such as
  // "regex", which strict mode would refuse.
  expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe.skipIf(!schemaAvailable)(
  schemaAvailable
    ? `manifest.json against Slack's published schema (${schemaPath})`
    : `SKIPPED manifest schema validation: ${schemaDir} is absent`,
  () => {
    it('validates against manifest.schema.1.0.0.json', () => {
      const validate = compileManifestValidator();
      const valid = validate(manifest);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });

    it('rejects a manifest that breaks the schema (the check has teeth)', () => {
      const validate = compileManifestValidator();
      const broken = { ...manifest, features: { ...manifest.features, slash_commands: [{ command: 'trade' }] } };
      expect(validate(broken)).toBe(false);
    });
  },
);

describe('manifest.json content', () => {
  it('uses manifest format 1.1', () => {
    expect(manifest._metadata).toEqual({ major_version: 1, minor_version: 1 });
  });

  it('runs in socket mode with no request URLs anywhere', () => {
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifestText).not.toMatch(/"(request_url|url|redirect_urls|message_menu_options_url)"\s*:/);
  });

  it('declares /trade and /portfolio with descriptions and usage hints', () => {
    const commands = manifest.features.slash_commands;
    expect(commands.map((c) => c.command).sort()).toEqual(['/portfolio', '/trade']);
    for (const command of commands) {
      expect(command.description.length).toBeGreaterThan(0);
      expect(command.usage_hint?.length ?? 0).toBeGreaterThan(0);
    }
    expect(commands.find((c) => c.command === '/trade')?.description).toBe('Place a paper trade through Alpaca');
  });

  it('turns the Home tab on and keeps the Messages tab writable for order confirmations', () => {
    expect(manifest.features.app_home).toEqual({
      home_tab_enabled: true,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: false,
    });
    expect(manifest.features.bot_user).toEqual({ display_name: 'slack-oms', always_online: true });
  });

  it('subscribes to app_home_opened and enables interactivity', () => {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });

  it('asks for exactly the bot scopes the app uses and no user scopes', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([
      'chat:write',
      'chat:write.public',
      'commands',
      'files:write',
      'im:write',
    ]);
    expect(Object.keys(manifest.oauth_config.scopes)).toEqual(['bot']);
  });

  it('is a single-workspace app with long-lived tokens', () => {
    expect(manifest.settings.org_deploy_enabled).toBe(false);
    expect(manifest.settings.token_rotation_enabled).toBe(false);
  });

  it('uses a background colour Slack accepts (the schema states it as a non-standard "regex")', () => {
    expect(manifest.display_information.name).toBe('Slack OMS');
    expect(manifest.display_information.background_color).toMatch(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/);
  });
});
