import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** One answer of the HTTP API, with its body parsed. */
export interface ApiAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
}

/**
 * Checks answers against the app's own /api/v1/openapi.json: the documented route, method and
 * status code must exist and the body must match its schema. What the document promises is what
 * the API does, or the test fails.
 */
export class OpenApiContract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  readonly checked: string[] = [];

  constructor(readonly document: OpenApiDocument) {}

  /** Throws with the route, status and schema errors when `answer` is not what the document says. */
  check(method: string, url: string, answer: ApiAnswer): void {
    const path = new URL(url, 'http://x').pathname;
    const template = Object.keys(this.document.paths).find((candidate) => templateMatches(candidate, path));
    if (!template) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    const operation = this.document.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${template} is not in the OpenAPI document`);
    const response = operation.responses?.[String(answer.status)];
    if (!response) throw new Error(`${method} ${template} answered ${answer.status}, which the document does not list`);
    const schema = response.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${method} ${template} ${answer.status} has no JSON schema in the document`);
    const key = `${method} ${template} ${answer.status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    if (!validate(answer.body)) {
      throw new Error(
        `${key}: the body does not match the document: ${this.ajv.errorsText(validate.errors)}\n` +
          JSON.stringify(answer.body).slice(0, 2_000),
      );
    }
    this.checked.push(key);
  }
}

function templateMatches(template: string, path: string): boolean {
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
  return new RegExp(`^${pattern}$`).test(path);
}

/** A client of the HTTP API over real HTTP; every /api/v1 answer is checked against the contract when one is set. */
export class ApiClient {
  contract: OpenApiContract | undefined;

  constructor(
    readonly baseUrl: string,
    readonly key: string | undefined,
  ) {}

  withKey(key: string | undefined): ApiClient {
    const client = new ApiClient(this.baseUrl, key);
    client.contract = this.contract;
    return client;
  }

  async request<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.key !== undefined) headers['x-api-key'] = this.key;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    const answer: ApiAnswer<T> = {
      status: response.status,
      headers: response.headers,
      body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
    };
    if (this.contract && path.startsWith('/api/v1/') && !path.startsWith('/api/v1/openapi.json'))
      this.contract.check(method, path, answer);
    return answer;
  }

  get<T = any>(path: string, headers?: Record<string, string>): Promise<ApiAnswer<T>> {
    return this.request<T>('GET', path, { headers });
  }

  post<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<ApiAnswer<T>> {
    return this.request<T>('POST', path, { body, headers });
  }

  delete<T = any>(path: string): Promise<ApiAnswer<T>> {
    return this.request<T>('DELETE', path);
  }

  /** Loads /api/v1/openapi.json (with this client's key) and checks every later answer against it. */
  async loadContract(): Promise<OpenApiContract> {
    const answer = await this.get<OpenApiDocument>('/api/v1/openapi.json');
    if (answer.status !== 200) throw new Error(`/api/v1/openapi.json answered ${answer.status}`);
    this.contract = new OpenApiContract(answer.body);
    return this.contract;
  }
}
