/**
 * How a hook call's body is read, in each form a client may send it: the common UTF-8 JSON of a
 * declared length (read directly) and everything else (compressed, chunked, other spellings of
 * the type), which body-parser reads. Both must give the same answers and the same errors.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { createErrorHandler } from '../../../src/http/error-handler.js';
import { jsonBody } from '../../../src/http/json-body.js';
import { createLogger } from '../../../src/logger.js';
import { expectOperationOutcome, expectValidCdsResponse } from '../../helpers/cds-response-schema.js';
import { closeServer, listenOnLoopback } from '../../helpers/loopback.js';
import { buildTestApp, hookRequest, searchset, servicePath, stenosisCondition, testServiceConfig } from '../../helpers/requests.js';

const app = buildTestApp();
const PATH = servicePath('order-sign');
const BODY = JSON.stringify(hookRequest('order-sign'));
/** A spelling of the JSON type that only body-parser reads (a quoted charset). */
const GENERAL_TYPE = 'application/json; charset="utf-8"';

function codeOf(response: Answer): unknown {
  const outcome = expectOperationOutcome(response.body);
  const coding: unknown = outcome.issue[0]?.details?.['coding'];
  return Array.isArray(coding) && typeof coding[0] === 'object' && coding[0] !== null ? Reflect.get(coding[0], 'code') : undefined;
}

function diagnosticsOf(response: Answer): string {
  return expectOperationOutcome(response.body)
    .issue.map((issue) => issue.diagnostics ?? '')
    .join(' | ');
}

function cardTopics(response: Answer): unknown[] {
  expect(response.status).toBe(200);
  return expectValidCdsResponse(response.body).cards.map((card) => card.source.topic?.code);
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer(app);
  port = await listenOnLoopback(server);
});

afterAll(async () => {
  await closeServer(server);
});

/** Posts the bytes exactly as given (supertest would serialise a Buffer sent as JSON). */
function send(body: string | Buffer, contentType = 'application/json', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: PATH, method: 'POST', headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One raw HTTP/1.1 exchange on its own connection: what the server answers to bytes as written. */
function rawExchange(port: number, head: string, body: Buffer | string, endSocket: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(head);
    socket.write(body);
    if (endSocket) socket.end();
    else setTimeout(() => socket.end(), 200);
  });
}

describe('the bodies clients send are read the same either way', () => {
  it('gives the massage card for plain application/json', async () => {
    expect(cardTopics(await send(BODY))).toEqual(['cervical-stenosis-massage']);
  });

  it('drops a leading byte-order mark, as body-parser does', async () => {
    expect(cardTopics(await send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BODY)])))).toEqual(['cervical-stenosis-massage']);
  });

  it('reads whitespace before the body', async () => {
    expect(cardTopics(await send(` \r\n\t${BODY}`))).toEqual(['cervical-stenosis-massage']);
  });

  it('reads a gzip-compressed body', async () => {
    expect(cardTopics(await send(gzipSync(BODY), 'application/json', { 'Content-Encoding': 'gzip' }))).toEqual(['cervical-stenosis-massage']);
  });

  it('reads a type spelled in capitals, and one with a quoted charset', async () => {
    expect(cardTopics(await send(BODY, 'application/json; charset=UTF-8'))).toEqual(['cervical-stenosis-massage']);
    expect(cardTopics(await send(BODY, 'Application/JSON'))).toEqual(['cervical-stenosis-massage']);
    expect(cardTopics(await send(BODY, GENERAL_TYPE))).toEqual(['cervical-stenosis-massage']);
  });

  it('reads a chunked body without Content-Length', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: PATH, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      const half = Math.floor(BODY.length / 2);
      req.write(BODY.slice(0, half));
      expect(req.getHeader('content-length')).toBeUndefined();
      req.end(BODY.slice(half));
    });
    expect(cardTopics(answer)).toEqual(['cervical-stenosis-massage']);
  });

  it('answers 400, not a server error, for a compressed body that does not inflate', async () => {
    const answer = await send(Buffer.from('not gzip at all'), 'application/json', { 'Content-Encoding': 'gzip' });
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe('INVALID_REQUEST');
  });

  it('reads a UTF-16 body, as body-parser does', async () => {
    expect(cardTopics(await send(Buffer.from(BODY, 'utf16le'), 'application/json; charset=utf-16le'))).toEqual(['cervical-stenosis-massage']);
  });

  it('answers 415 for a charset that is not UTF-8 or UTF-16', async () => {
    const answer = await send(Buffer.from(BODY, 'latin1'), 'application/json; charset=iso-8859-1');
    expect(answer.status).toBe(415);
    expect(codeOf(answer)).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('reads invalid UTF-8 in a text the same way on both readers', async () => {
    const condition = { ...stenosisCondition(), note: [{ text: 'seen by PLACEHOLDER' }] };
    const text = JSON.stringify(hookRequest('order-sign', { prefetch: { conditions: searchset([condition]), procedures: searchset([]), patient: null } }));
    const [before, after] = text.split('PLACEHOLDER');
    const bytes = Buffer.concat([Buffer.from(before ?? ''), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after ?? '')]);
    const direct = await send(bytes);
    const general = await send(bytes, GENERAL_TYPE);
    expect(cardTopics(direct)).toEqual(['cervical-stenosis-massage']);
    expect(cardTopics(general)).toEqual(cardTopics(direct));
  });
});

describe('the errors are the same either way', () => {
  const spellings = ['application/json', GENERAL_TYPE];

  it.each(spellings)('answers 400 "not valid JSON" for a body that is a JSON string, number or null (%s)', async (type) => {
    for (const body of ['"order-sign"', '42', 'null', 'true']) {
      const response = await send(body, type);
      expect(response.status).toBe(400);
      expect(codeOf(response)).toBe('INVALID_REQUEST');
      expect(diagnosticsOf(response)).toMatch(/not valid JSON/);
    }
  });

  it.each(spellings)('answers 400 "not valid JSON" for a cut-off body (%s)', async (type) => {
    const response = await send(BODY.slice(0, BODY.length - 3), type);
    expect(response.status).toBe(400);
    expect(diagnosticsOf(response)).toMatch(/not valid JSON/);
  });

  it.each(spellings)('answers 400 "not valid JSON" for a byte-order mark followed by nothing but spaces (%s)', async (type) => {
    const response = await send(Buffer.from([0xef, 0xbb, 0xbf, 0x20, 0x20]), type);
    expect(response.status).toBe(400);
    expect(diagnosticsOf(response)).toMatch(/not valid JSON/);
  });

  it.each(spellings)('reads an empty body as an empty object, so the answer names what is missing (%s)', async (type) => {
    const response = await send('', type);
    expect(response.status).toBe(400);
    expect(codeOf(response)).toBe('INVALID_REQUEST');
    expect(diagnosticsOf(response)).toMatch(/\bhook\b/);
  });

  it('answers 413 for a body over the limit, declared or chunked', async () => {
    const small = buildTestApp({ config: testServiceConfig({ BODY_LIMIT_BYTES: '1024' }) });
    const smallServer = createServer(small);
    const smallPort = await listenOnLoopback(smallServer);
    try {
      const big = JSON.stringify({ ...hookRequest('order-sign'), extension: { padding: 'x'.repeat(4096) } });
      const declared = await rawExchange(smallPort, `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(big)}\r\n\r\n`, big, false);
      expect(declared).toMatch(/^HTTP\/1\.1 413 /);
      const chunk = `${Buffer.byteLength(big).toString(16)}\r\n${big}\r\n0\r\n\r\n`;
      const chunked = await rawExchange(smallPort, `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, chunk, false);
      expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await closeServer(smallServer);
    }
  });
});

describe('a client that goes away mid-body', () => {
  it.each(['whole body sent', 'half the body sent'])('is no server error when it leaves before its body is read (%s)', async (sent) => {
    const errors: unknown[] = [];
    const reached: unknown[] = [];
    const logger = createLogger('error', new Writable({ write: (chunk: Buffer, _encoding, done) => (errors.push(chunk.toString('utf8')), done()) }));
    const slow = express();
    // A step that answers later (as caller authentication does), so the client is gone by the time the body is read.
    slow.post(PATH, (_req, _res, next) => setTimeout(next, 80), jsonBody(100_000), (req, res) => {
      reached.push(req.body);
      res.json({ cards: [] });
    });
    slow.use(createErrorHandler(logger));
    const slowServer = createServer(slow);
    const slowPort = await listenOnLoopback(slowServer);
    try {
      const body = sent === 'whole body sent' ? BODY : BODY.slice(0, 200);
      const socket = connect(slowPort, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.on('connect', resolve));
      socket.end(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${body}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(errors).toEqual([]);
      if (sent === 'whole body sent') expect(reached).toEqual([undefined]);
    } finally {
      await closeServer(slowServer);
    }
  });


  it('gets no answer, and the next call is answered with its card', async () => {
    const part = BODY.slice(0, 100);
    const answer = await rawExchange(port, `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n`, part, true);
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
    expect(cardTopics(await send(BODY))).toEqual(['cervical-stenosis-massage']);
  });
});
