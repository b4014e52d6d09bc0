import { pino, type Logger } from 'pino';

/**
 * Secrets are removed by configuration, not by care: any of these paths in any log record is replaced,
 * whatever the code that logged it remembered to do.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.adminPassword',
  '*.passwordHash',
  '*.secretHash',
  'password',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'adminPassword',
  'passwordHash',
  'secretHash',
  'config.auth.adminPassword',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: { service: 'berth' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
