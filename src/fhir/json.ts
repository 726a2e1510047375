/** Safe readers over JSON the client sent: nothing here trusts a shape it has not checked. */
export type JsonObject = Record<string, unknown>;

/** JSON's insignificant whitespace (space, tab, line feed, carriage return), as a byte or UTF-16 code. */
export function isJsonSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function objects(value: unknown): JsonObject[] {
  return list(value).filter(isObject);
}

export interface Coding {
  readonly system: string | undefined;
  readonly code: string | undefined;
  readonly display: string | undefined;
}

export interface Concept {
  readonly codings: readonly Coding[];
  readonly text: string | undefined;
}

/** A CodeableConcept; a bare string (DSTU2/STU3 status fields) reads as a code with no system. */
export function readConcept(value: unknown): Concept | undefined {
  if (typeof value === 'string') {
    return value.trim() ? { codings: [{ system: undefined, code: value.trim(), display: undefined }], text: undefined } : undefined;
  }
  if (!isObject(value)) return undefined;
  const codings = objects(value['coding']).map((c) => ({ system: str(c['system']), code: str(c['code']), display: str(c['display']) }));
  return { codings, text: str(value['text']) };
}

/** The first text {@link conceptTexts} would give, read without building the concept: a record holds many. */
export function firstConceptText(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const text = str(value['text']);
  if (text) return text;
  const codings = value['coding'];
  if (!Array.isArray(codings)) return undefined;
  for (const coding of codings) {
    const display = isObject(coding) ? str(coding['display']) : undefined;
    if (display !== undefined) return display;
  }
  return undefined;
}

/** The text a concept is matched on: its `text`, else its codings' displays. */
export function conceptTexts(concept: Concept | undefined): string[] {
  if (!concept) return [];
  if (concept.text) return [concept.text];
  return concept.codings.map((c) => c.display).filter((d): d is string => d !== undefined);
}

/**
 * Whether `test` holds for one of the codes of a status concept: its `coding.code`s, whatever
 * their system, or the plain string of STU3/DSTU2, trimmed and otherwise exactly as sent. FHIR
 * status codes are case-sensitive, another spelling is no status at all, and a `text` is not a
 * code (clinical policy §1). Stops at the first code `test` accepts, and builds no list: every
 * Condition of a record has two status concepts.
 */
export function someStatusCode(value: unknown, test: (code: string) => boolean): boolean {
  if (typeof value === 'string') {
    const code = value.trim();
    return code !== '' && test(code);
  }
  if (!isObject(value)) return false;
  const codings = value['coding'];
  if (!Array.isArray(codings)) return false;
  for (const coding of codings) {
    const code = isObject(coding) ? str(coding['code'])?.trim() : undefined;
    if (code !== undefined && test(code)) return true;
  }
  return false;
}

/** A plain status code (`Procedure.status`, `ServiceRequest.status`), exact as FHIR writes it. */
export function statusCode(value: unknown): string | undefined {
  return str(value)?.trim();
}

/**
 * A copy without `null`, empty strings, empty arrays or empty objects (CDS Hooks §Use of JSON),
 * for anything built from client data and sent back. Non-JSON values are dropped too.
 */
export function pruneEmpty(value: unknown): unknown {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    const items = value.map(pruneEmpty).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (isObject(value)) {
    const entries = Object.entries(value)
      .map(([key, inner]) => [key, pruneEmpty(inner)] as const)
      .filter(([, inner]) => inner !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return undefined;
}

/** A clean CodeableConcept (codings with system or code, text), or undefined when nothing usable is left. */
export function cleanConcept(value: unknown): JsonObject | undefined {
  const concept = readConcept(value);
  if (!concept || typeof value === 'string') return undefined;
  const coding: JsonObject[] = [];
  for (const c of concept.codings) {
    if (c.code === undefined && c.display === undefined) continue;
    // Members set one by one (not spread from conditional objects): the same JSON, built cheaply.
    const clean: JsonObject = {};
    if (c.system) clean['system'] = c.system;
    if (c.code) clean['code'] = c.code;
    if (c.display) clean['display'] = c.display;
    coding.push(clean);
  }
  if (coding.length === 0 && !concept.text) return undefined;
  const clean: JsonObject = {};
  if (coding.length > 0) clean['coding'] = coding;
  if (concept.text) clean['text'] = concept.text;
  return clean;
}
