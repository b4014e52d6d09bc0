import { z } from 'zod';
import { ApiError } from '../errors.js';
import { route, type Route } from '../router.js';
import { cookie, csrfCookie, isSecure, sessionCookie } from '../session.js';
import type { ApiServices } from './common.js';

/**
 * Harbor's portal sign-in: `POST /c/login` with the form fields `principal` and `password` sets the
 * HttpOnly `sid` cookie and the `__csrf` cookie (readable by the page, echoed back in
 * `X-Harbor-CSRF-Token` on writes); `GET /c/log_out` clears both. Robots cannot sign in here.
 */
export function sessionRoutes(s: ApiServices): Route[] {
  return [
    route({
      method: 'POST',
      path: '/c/login',
      operationId: 'login',
      summary: 'Sign in and receive a session cookie',
      tag: 'session',
      hidden: true,
      csrfExempt: true,
      bodyType: 'form',
      body: z.object({ principal: z.string().min(1).max(256), password: z.string().max(4096) }),
      responses: { 200: { description: 'Signed in' }, 401: { description: 'Wrong name or password' } },
      handler: async ({ req, body }) => {
        const subject = await s.auth.password(body.principal, body.password, req);
        const sessions = await s.sessions();
        const issued = sessions.issue(subject, s.clock.now());
        if (issued === undefined || subject.kind !== 'user') {
          throw new ApiError('UNAUTHORIZED', 'invalid username or password');
        }
        const secure = isSecure(req);
        const token = sessions.csrfToken(issued.session);
        const maxAge = Math.floor(sessions.ttlMs / 1000);
        return {
          status: 200,
          headers: {
            'Set-Cookie': [
              cookie(sessionCookie, issued.value, { httpOnly: true, secure, maxAge }),
              cookie(csrfCookie, token, { httpOnly: false, secure, maxAge }),
            ],
            'X-Harbor-CSRF-Token': token,
          },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/c/log_out',
      operationId: 'logout',
      summary: 'Sign out (clears the session cookies)',
      tag: 'session',
      hidden: true,
      responses: { 200: { description: 'Signed out' } },
      handler: ({ req }) => {
        const secure = isSecure(req);
        return Promise.resolve({
          status: 200,
          headers: {
            'Set-Cookie': [
              cookie(sessionCookie, '', { httpOnly: true, secure, maxAge: 0 }),
              cookie(csrfCookie, '', { httpOnly: false, secure, maxAge: 0 }),
            ],
          },
        });
      },
    }),
  ];
}
