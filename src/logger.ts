import { pino, type Bindings, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.js';

export type { Logger };

/**
 * Structured logs. Records carry request, service and rule ids only: request bodies, headers,
 * tokens, names and patient identifiers are never passed to the logger, and the redaction list
 * is a second line of defence should one slip into a record.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'spine-safety-cds' },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'token',
        'accessToken',
        'access_token',
        'fhirAuthorization',
        'body',
        'prefetch',
        'patientId',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * A child logger with these bindings, made when it is first used: most hook calls log nothing
 * beyond their request line, and a pino child serialises its bindings when it is made.
 */
export function lazyChild(logger: Logger, bindings: Bindings): Logger {
  let child: Logger | undefined;
  return new Proxy(logger, {
    get(_target, property) {
      child ??= logger.child(bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? value.bind(child) : value;
    },
    set(_target, property, value) {
      child ??= logger.child(bindings);
      return Reflect.set(child, property, value, child);
    },
  });
}

/**
 * The service's logger as configured: JSON lines on stdout by default, or with `LOG_FORMAT=pretty`
 * pino-pretty's readable lines (coloured on a terminal), written in-process.
 */
export function createServiceLogger(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  if (config.logFormat === 'json') return createLogger(config.logLevel);
  return createLogger(config.logLevel, pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:standard', ignore: 'pid,hostname,service' }));
}

/**
 * What an unexpected error may tell the log: its class, its code (e.g. `SQLITE_BUSY`, `ECONNREFUSED`)
 * and its stack frames, never its message, which can quote request data.
 */
export function errorKind(error: unknown): { name: string; code?: string; frames?: string } {
  if (!(error instanceof Error)) return { name: typeof error };
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const frames = error.stack?.split('\n').slice(1, 8).join('\n');
  return { name: error.name, ...(code ? { code } : {}), ...(frames ? { frames } : {}) };
}
