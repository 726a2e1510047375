import { isJsonSpace } from '../fhir/json.js';

/** Where one member's value stands in a JSON text: `bytes.subarray(start, end)`. */
export interface MemberSpan {
  readonly start: number;
  readonly end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function skipSpace(bytes: Uint8Array, at: number): number {
  let i = at;
  while (i < bytes.length && isJsonSpace(bytes[i])) i += 1;
  return i;
}

/** The index just past the string opening at `at` (the closing quote found by a native search). */
function skipString(bytes: Uint8Array, at: number): number {
  let from = at + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote === -1) return bytes.length;
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The index just past the value starting at `at` (object, array, string, number or literal). */
function skipValue(bytes: Uint8Array, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) return skipString(bytes, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let i = at;
    while (i < bytes.length && bytes[i] !== COMMA && bytes[i] !== CLOSE_BRACE && bytes[i] !== CLOSE_BRACKET && !isJsonSpace(bytes[i])) i += 1;
    return i;
  }
  let depth = 0;
  let i = at;
  while (i < bytes.length) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      i = skipString(bytes, i);
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
    i += 1;
  }
  return i;
}

/** The index of a JSON text's closing brace when only white space follows it; -1 otherwise. */
export function closingBrace(bytes: Uint8Array): number {
  let at = bytes.length - 1;
  while (at >= 0 && isJsonSpace(bytes[at])) at -= 1;
  return bytes[at] === CLOSE_BRACE ? at : -1;
}

/** Where `bytes[from, to)` ends once the white space at its end is left out. */
export function trimSpaceEnd(bytes: Uint8Array, from: number, to: number): number {
  let end = to;
  while (end > from && isJsonSpace(bytes[end - 1])) end -= 1;
  return end;
}

/** Whether `bytes[start, end)` holds `byte` (without making a view of them). */
function holds(bytes: Uint8Array, start: number, end: number, byte: number): boolean {
  for (let i = start; i < end; i += 1) if (bytes[i] === byte) return true;
  return false;
}

function sameBytes(bytes: Uint8Array, start: number, end: number, wanted: Uint8Array): boolean {
  if (end - start !== wanted.length) return false;
  for (let j = 0; j < wanted.length; j += 1) if (bytes[start + j] !== wanted[j]) return false;
  return true;
}

/** What {@link leadingMembers} found before the member it stops at. */
export interface LeadingMembers {
  /** Spans of the values of the wanted members met before `stopAt` (the last of duplicates). */
  readonly spans: ReadonlyMap<string, MemberSpan>;
  /** Where the value of the first top-level `stopAt` member starts, if there is one. */
  readonly stopFrom: number | undefined;
  /** False when the text could not be read as a JSON object or a member name was written with escapes. */
  readonly plain: boolean;
}

/**
 * Reads the top-level members of a JSON object text that `JSON.parse` accepted, up to the first
 * member named `stopAt`, without reading that member or anything after it: the caller takes the
 * rest of the text whole. So the cost is that of the small members ahead of it.
 */
export function leadingMembers(bytes: Uint8Array, wanted: readonly string[], stopAt: string): LeadingMembers {
  const stop = encoded(stopAt);
  const spans = new Map<string, MemberSpan>();
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN_BRACE) return { spans, stopFrom: undefined, plain: false };
  i += 1;
  while (i < bytes.length) {
    i = skipSpace(bytes, i);
    if (bytes[i] === COMMA) i = skipSpace(bytes, i + 1);
    if (bytes[i] === CLOSE_BRACE) return { spans, stopFrom: undefined, plain: true };
    if (bytes[i] !== QUOTE) break;
    const keyStart = i + 1;
    const keyEnd = skipString(bytes, i) - 1;
    if (holds(bytes, keyStart, keyEnd, BACKSLASH)) break;
    i = skipSpace(bytes, keyEnd + 1);
    if (bytes[i] !== COLON) break;
    const start = skipSpace(bytes, i + 1);
    if (sameBytes(bytes, keyStart, keyEnd, stop)) return { spans, stopFrom: start, plain: true };
    const end = skipValue(bytes, start);
    const name = wanted.find((n) => sameBytes(bytes, keyStart, keyEnd, encoded(n)));
    if (name !== undefined) spans.set(name, { start, end });
    i = end;
  }
  return { spans, stopFrom: undefined, plain: false };
}

const ENCODER = new TextEncoder();

/** Member names as UTF-8, encoded once each: callers ask for the same few names on every call. */
const ENCODED = new Map<string, Uint8Array>();

function encoded(name: string): Uint8Array {
  let bytes = ENCODED.get(name);
  if (!bytes) {
    bytes = ENCODER.encode(name);
    ENCODED.set(name, bytes);
  }
  return bytes;
}
