import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiCaller } from '../../services/api-keys';
import { bookRoutes } from './books';
import type { ApiDeps } from './deps';
import { sendError } from './errors';
import { ErrorBody } from './schemas';
import { tradeRoutes } from './trades';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the key check before any /api/v1 handler runs. */
    caller: ApiCaller;
  }
}

const COMMON_ERRORS = { 401: ErrorBody, 422: ErrorBody, 429: ErrorBody, 500: ErrorBody };

/**
 * /api/v1: every route needs an X-API-Key (401 without one or with a wrong one) and is limited per
 * key (429 with Retry-After). The routes call the same services as Slack.
 */
export function apiV1(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.decorateRequest('caller', null as unknown as ApiCaller);
    // Answers any /api/v1 route can give, documented on each so clients can rely on the shape.
    app.addHook('onRoute', (route) => {
      if (!route.schema || route.schema.hide) return;
      route.schema.response = { ...COMMON_ERRORS, ...(route.schema.response as object) };
    });
    app.addHook('onRequest', async (request, reply) => {
      const presented = request.headers['x-api-key'];
      const caller = await deps.keys.verify(Array.isArray(presented) ? presented[0] : presented);
      if (!caller) {
        return sendError(reply, 401, 'unauthorized', 'A valid X-API-Key header is required.');
      }
      request.caller = caller;
    });
    await app.register(rateLimit, {
      max: deps.requestsPerMinute,
      timeWindow: 60_000,
      // After the key check, so the limit is per key rather than per address.
      hook: 'preHandler',
      keyGenerator: (request) => request.caller.id,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        success: false,
        error: 'rate_limited',
        detail: `Too many requests for this API key: at most ${context.max} a minute. Try again in ${context.after}.`,
      }),
    });
    await app.register(tradeRoutes(deps));
    await app.register(bookRoutes(deps));
    // Generated from the route schemas above (never written by hand). The docs page reads the same
    // document at /api/docs/json without a key: it holds no secrets, only the routes' shapes.
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  };
}
