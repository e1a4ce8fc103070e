import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { apiV1 } from './api';
import type { ApiDeps } from './api/deps';
import { sendError } from './api/errors';
import { type HealthProbes, healthRoutes } from './health';

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export interface HttpDeps {
  version: string;
  health: HealthProbes;
  api: ApiDeps;
  metrics: Metrics;
  logger: Logger;
}

/** The request-body limit: an order is a few hundred bytes. */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * One HTTP server on PORT: health and probes, and the API under /api/v1 with its OpenAPI document
 * (generated from the route schemas) at /api/v1/openapi.json and a docs page at /api/docs.
 */
export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const detail = error.validation.map((issue) => `${fieldOf(issue.instancePath)}: ${issue.message}`).join('; ');
      return sendError(reply, 422, 'invalid_request', `The request does not match the API: ${detail}.`);
    }
    const status = error.statusCode;
    if (status === 429) {
      return sendError(reply, 429, 'rate_limited', (error as { detail?: string }).detail ?? 'Too many requests.');
    }
    if (status && status >= 400 && status < 500) return sendError(reply, status, 'bad_request', error.message);
    deps.logger.error({ err: error, url: request.url }, 'HTTP request failed');
    return sendError(reply, 500, 'internal_error', 'Something went wrong on our side; nothing more is known here.');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'not_found', `There is no ${request.method} ${request.url.split('?')[0]}.`),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Slack OMS API',
        version: deps.version,
        description:
          'Orders, portfolios and the Alpaca account, over the same exactly-once core as the Slack app. ' +
          'Every /api/v1 route needs an X-API-Key header.',
      },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  await app.register(healthRoutes(deps.health));
  // Prometheus text format, unauthenticated like the probes: expose PORT only to your own network.
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await deps.metrics.scrape();
    return reply.type(contentType).send(body);
  });
  await app.register(apiV1(deps.api), { prefix: '/api/v1' });
  return app;
}

/** `/quantity` → `quantity`, `/legs/0/qty` → `legs.0.qty`; the whole body when empty. */
function fieldOf(instancePath: string): string {
  return instancePath.replace(/^\//, '').replaceAll('/', '.') || 'body';
}

export async function startHttpServer(deps: HttpDeps, port: number, host = '0.0.0.0'): Promise<HttpServer> {
  const app = await buildHttpServer(deps);
  await app.listen({ port, host });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => app.close(),
  };
}
