import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Alpaca's official OpenAPI 3.0 documents (read-only, kept outside the repository) turned into
 * JSON Schema validators with ajv, so stand-in responses can be checked against the real API.
 *
 * OpenAPI 3.0 → JSON Schema: `$ref`s resolve against the document's components,
 * `nullable: true` admits null, and `oneOf` becomes `anyOf` — the documents use `oneOf` without
 * a discriminator over object schemas that do not exclude each other (a FILL activity matches
 * both activity schemas), and the sibling operation GET /v2/account/activities writes the same
 * union as `anyOf`. The overlay patches next to the documents only steer SDK code generation.
 */

export type ApiDocument = 'trading' | 'data';

const FILES: Record<ApiDocument, string> = { trading: 'trading-api.json', data: 'market-data-api.json' };
const SCHEMA_IDS: Record<ApiDocument, string> = {
  trading: 'https://alpaca.openapi/trading-api.json',
  data: 'https://alpaca.openapi/market-data-api.json',
};
const KEYS_OF_NAMES = new Set(['properties', 'patternProperties']);

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toJsonSchema(node: unknown, documentId: string): unknown {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, documentId));
  if (!isRecord(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (
      key === 'nullable' ||
      key === 'example' ||
      key === 'examples' ||
      key === 'discriminator' ||
      key.startsWith('x-')
    )
      continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out.$ref = `${documentId}${value}`;
    else if (KEYS_OF_NAMES.has(key) && isRecord(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema, documentId)]),
      );
    } else out[key === 'oneOf' ? 'anyOf' : key] = toJsonSchema(value, documentId);
  }
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string' && out.$ref === undefined) {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

export class AlpacaOpenApi {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  private constructor(private readonly documents: Record<ApiDocument, OpenApiDocument>) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addFormat('decimal', /^-?\d+(\.\d+)?$/);
    for (const numeric of ['double', 'float', 'int32', 'int64', 'uint32', 'uint64']) this.ajv.addFormat(numeric, true);
    for (const api of ['trading', 'data'] as const) {
      this.ajv.addSchema({
        $id: SCHEMA_IDS[api],
        components: { schemas: toJsonSchema(documents[api].components.schemas, SCHEMA_IDS[api]) },
      });
    }
  }

  /** Undefined when the documents are not in `directory`. */
  static load(directory: string): AlpacaOpenApi | undefined {
    const files = Object.values(FILES).map((f) => path.join(directory, f));
    if (!files.every((f) => existsSync(f))) return undefined;
    const read = (api: ApiDocument) =>
      JSON.parse(readFileSync(path.join(directory, FILES[api]), 'utf8')) as OpenApiDocument;
    return new AlpacaOpenApi({ trading: read('trading'), data: read('data') });
  }

  hasOperation(api: ApiDocument, method: string, pathTemplate: string): boolean {
    return this.documents[api].paths[pathTemplate]?.[method.toLowerCase()] !== undefined;
  }

  /** The statuses the document lists for an operation. */
  documentedStatuses(api: ApiDocument, method: string, pathTemplate: string): string[] {
    return Object.keys(this.documents[api].paths[pathTemplate]?.[method.toLowerCase()]?.responses ?? {});
  }

  /** Validates a JSON body against the operation's documented response; undefined when the document gives no schema. */
  responseValidator(
    api: ApiDocument,
    method: string,
    pathTemplate: string,
    status: number,
  ): ValidateFunction | undefined {
    const key = `${api} ${method} ${pathTemplate} ${status}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const response = this.documents[api].paths[pathTemplate]?.[method.toLowerCase()]?.responses?.[String(status)];
    const schema = response?.content?.['application/json']?.schema;
    if (schema === undefined) return undefined;
    const validate = this.ajv.compile(toJsonSchema(schema, SCHEMA_IDS[api]) as object);
    this.cache.set(key, validate);
    return validate;
  }

  /** Validates against a named component schema, e.g. the trading document's `Error`. */
  componentValidator(api: ApiDocument, name: string): ValidateFunction {
    const key = `${api} #${name}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const validate = this.ajv.compile({ $ref: `${SCHEMA_IDS[api]}#/components/schemas/${name}` });
    this.cache.set(key, validate);
    return validate;
  }

  describeErrors(validate: ValidateFunction): string {
    return this.ajv.errorsText(validate.errors, { separator: '\n' });
  }
}
