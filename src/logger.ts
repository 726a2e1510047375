import { pino, type Logger, type DestinationStream } from 'pino';

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
