import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { ErrorBody } from './schemas';

export type ErrorAnswer = z.infer<typeof ErrorBody>;

/** Answers with the API's error shape: `{success: false, error, detail, …}`. */
export function sendError(
  reply: FastifyReply,
  status: number,
  error: string,
  detail: string,
  extra: Partial<ErrorAnswer> = {},
): FastifyReply {
  return reply.code(status).send({ success: false, error, detail, ...extra } satisfies ErrorAnswer);
}
