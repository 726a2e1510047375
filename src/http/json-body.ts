import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { json, type RequestHandler } from 'express';
import getRawBody from 'raw-body';
import type { z } from 'zod';
import { CdsError, type Problem } from '../errors.js';
import { isJsonSpace } from '../fhir/json.js';
import type { LeadingMembers } from '../hooks/json-members.js';
import type { PrefetchParse } from '../ops/types.js';

/** Media types read as JSON (CDS Hooks clients send `application/json`, FHIR tools `application/fhir+json`). */
export const JSON_TYPES = ['application/json', 'application/*+json'];

/** Problems listed in a 400 answer; the rest are summarised in one line. */
const MAX_PROBLEMS = 20;

/** The Content-Type values clients send nearly always, known to be JSON without parsing them. */
const COMMON_JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8', 'application/fhir+json', 'application/fhir+json; charset=utf-8']);

/** Whether a Content-Type is one of {@link COMMON_JSON_TYPES}, in any case (`charset=UTF-8` is common). */
function isCommonJsonType(type: string | undefined): type is string {
  return type !== undefined && (COMMON_JSON_TYPES.has(type) || COMMON_JSON_TYPES.has(type.toLowerCase()));
}

/** Whether the request announces a body, as type-is decides it. */
function announcesBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || !Number.isNaN(Number(headers['content-length'] ?? Number.NaN));
}

/**
 * 415 unless the body is declared as JSON; runs before the parser so nothing else is read.
 * The common values are matched by a set lookup; anything else is read by type-is (`req.is`).
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  const type = req.headers['content-type'];
  const json = isCommonJsonType(type) ? announcesBody(req.headers) : Boolean(req.is(JSON_TYPES));
  next(json ? undefined : new CdsError('UNSUPPORTED_MEDIA_TYPE'));
};

/** A request body as received (UTF-8), and what its reader learnt of it. */
export interface RawBody {
  readonly bytes: Buffer;
  readonly members?: LeadingMembers | undefined;
  /** How a hook call's prefetch was read, when its reader read it apart (src/http/call-body.ts). */
  readonly prefetch?: PrefetchParse | undefined;
}

/** A body as read: its value, and what the reader learnt of it on the way. */
export interface ReadBody {
  readonly value: unknown;
  readonly members?: LeadingMembers | undefined;
  readonly prefetch?: PrefetchParse | undefined;
}

/** Reads a UTF-8 JSON body; throws the error to answer with (see {@link notJsonError}). */
export type BodyReader = (bytes: Buffer) => ReadBody;

/** Request bodies as received, kept while their request lives (UTF-8 only). */
const rawBodies = new WeakMap<IncomingMessage, RawBody>();

/** The body of this request as received, when it was UTF-8 JSON read by {@link jsonBody}. */
export function rawBodyOf(req: IncomingMessage): RawBody | undefined {
  return rawBodies.get(req);
}

/** The answer to a body that is not JSON (or not an object or array): the same from both readers. */
export function notJsonError(): CdsError {
  return new CdsError('INVALID_REQUEST', [{ message: 'Request body is not valid JSON' }]);
}

/**
 * The body text as a JSON object or array, read as body-parser's strict JSON parser reads it:
 * a leading byte-order mark is dropped, an empty body is `{}`, and a body whose first value is
 * not an object or array is refused like one that does not parse.
 */
export function parseStrictJson(text: string): unknown {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let at = start;
  while (at < text.length && isJsonSpace(text.charCodeAt(at))) at += 1;
  if (at === text.length) {
    if (start === text.length) return {};
    throw notJsonError();
  }
  const first = text.charCodeAt(at);
  if (first !== 0x7b && first !== 0x5b) throw notJsonError();
  try {
    return JSON.parse(start === 0 ? text : text.slice(start));
  } catch {
    throw notJsonError();
  }
}

/**
 * Whether the body can no longer be read (the client went away, or it was read already): as
 * on-finished judges it for body-parser, which then reads nothing and passes the request on.
 */
function bodyGone(req: IncomingMessage): boolean {
  const socket = req.socket as IncomingMessage['socket'] | null;
  return socket === null || !socket.readable || (req.complete && !req.readable);
}

/**
 * The length of a body this route can read directly: UTF-8 JSON by one of the common media
 * types, not compressed, its length given and within the limit. Anything else (compressed,
 * chunked, another charset, too long) goes to body-parser, which reads or refuses it.
 */
function directLength(req: IncomingMessage, limitBytes: number): number | undefined {
  const headers = req.headers;
  const type = headers['content-type'];
  if (!isCommonJsonType(type) || headers['content-encoding'] !== undefined || bodyGone(req)) return undefined;
  const declared = headers['content-length'];
  if (declared === undefined || !/^\d{1,15}$/.test(declared)) return undefined;
  const length = Number(declared);
  return length <= limitBytes ? length : undefined;
}

/** The reader of every body but a hook call's: the whole text, parsed strictly. */
const wholeText: BodyReader = (bytes) => ({ value: parseStrictJson(bytes.toString('utf8')) });

/** Reads and discards what is left of a request the route will not use, then calls `done` once. */
function drain(req: IncomingMessage, done: () => void): void {
  if (req.complete || req.destroyed) {
    done();
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    done();
  };
  req.once('end', once).once('close', once).resume();
}

/**
 * The JSON body parser every POST route uses; its errors reach the error handler (400, 413, 415).
 * The bodies nearly every client sends (UTF-8 JSON of a declared length, not compressed) are read
 * with raw-body and parsed here, which spares body-parser's type, charset and decoder steps on
 * each call, by `read` (hook calls read their prefetch apart); every other body goes to
 * body-parser's JSON parser, with the same limit and types.
 */
export function jsonBody(limitBytes: number, read: BodyReader = wholeText): RequestHandler {
  const general = json({
    limit: limitBytes,
    type: JSON_TYPES,
    verify: (req, _res, buf, encoding) => {
      if (encoding === 'utf-8') rawBodies.set(req, { bytes: buf });
    },
  });
  return (req, res, next) => {
    const length = directLength(req, limitBytes);
    if (length === undefined) {
      general(req, res, next);
      return;
    }
    getRawBody(req, { length, limit: limitBytes }, (error, body) => {
      if (error) {
        // raw-body's errors carry body-parser's types (request.aborted, request.size.invalid, ...).
        drain(req, () => next(error));
        return;
      }
      let parsed: ReadBody;
      try {
        parsed = read(body);
      } catch (parseError) {
        next(parseError);
        return;
      }
      req.body = parsed.value;
      rawBodies.set(req, { bytes: body, members: parsed.members, prefetch: parsed.prefetch });
      next();
    });
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}

/** Client-facing problems from zod issues: where and what, never the value sent. */
export function problemsFrom(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const problems: Problem[] = issues.slice(0, MAX_PROBLEMS).map((issue) => {
    const path = formatPath(issue.path);
    return path === '' ? { message: issue.message } : { path, message: `${path}: ${issue.message}` };
  });
  if (issues.length > MAX_PROBLEMS) problems.push({ message: `${issues.length - MAX_PROBLEMS} more problems not listed` });
  return problems;
}
