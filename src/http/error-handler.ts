import type { ErrorRequestHandler, Response } from 'express';
import { CdsError, operationOutcome, type ErrorCode } from '../errors.js';
import { errorKind, type Logger } from '../logger.js';
import { isObject } from '../fhir/json.js';
import { notJsonError } from './json-body.js';

/** body-parser marks its errors with a `type`; map those, never the message text. */
const BODY_PARSER_ERRORS: Record<string, ErrorCode> = {
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'entity.parse.failed': 'INVALID_REQUEST',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'request.aborted': 'INVALID_REQUEST',
  'request.size.invalid': 'INVALID_REQUEST',
};

function toCdsError(error: unknown): CdsError | undefined {
  if (error instanceof CdsError) return error;
  if (isObject(error) && typeof error['type'] === 'string') {
    const code = BODY_PARSER_ERRORS[error['type']];
    if (code === 'INVALID_REQUEST' && error['type'] === 'entity.parse.failed') {
      return notJsonError();
    }
    if (code) return new CdsError(code);
  }
  // The framework's other 400s are the client's: body-parser's (a compressed body that does not
  // inflate) and the router's (a path whose percent-encoding does not decode). Their message,
  // which may quote the request, is not kept.
  const fromFramework = error instanceof URIError || (isObject(error) && error['expose'] === true);
  if (error instanceof Error && fromFramework && isObject(error) && error['status'] === 400) return new CdsError('INVALID_REQUEST');
  return undefined;
}

/** Routes of the FHIR knowledge server answer errors as FHIR too. */
function mediaTypeOf(res: Response): string {
  return res.locals['fhirContent'] === true ? 'application/fhir+json' : 'application/json';
}

/** The only place that writes error responses: an OperationOutcome with the catalogue's status. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const known = toCdsError(error);
    if (known) {
      res.locals['errorCode'] = known.code;
      for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
      res.status(known.status).type(mediaTypeOf(res)).json(known.toOperationOutcome());
      return;
    }
    logger.error({ requestId: res.locals['requestId'], err: errorKind(error) }, 'internal error');
    res.locals['errorCode'] = 'INTERNAL';
    res.status(500).type(mediaTypeOf(res)).json(operationOutcome('INTERNAL'));
  };
}
