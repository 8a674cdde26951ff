import { createMiddleware } from 'hono/factory';
import { AuthError, bearerToken, type TokenVerifier } from '../auth/index.js';
import { UnauthorizedError } from '../errors.js';
import type { ApiEnv } from './env.js';

/** Verifies `Authorization: Bearer <jwt>` in-process: how the dev server authenticates. */
export function bearerAuthentication(verifier: TokenVerifier) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new UnauthorizedError();
    try {
      const { userId } = await verifier.verify(token);
      c.set('userId', userId);
    } catch (error) {
      if (error instanceof AuthError) throw new UnauthorizedError(error.message);
      throw error;
    }
    await next();
  });
}
