import type { KnowledgeClass, TextClass } from '../knowledge/classes.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { conceptTexts, isObject, list, str, type Coding, type Concept } from '../fhir/json.js';
import type { CodeInfo } from '../terminology/code-index.js';

/** How a record entry or order was classified. */
export interface Classification {
  readonly classes: ReadonlySet<KnowledgeClass>;
  /** 'code' when a recognised coding decided; 'text' when the text did; 'none' when neither. */
  readonly matchedBy: 'code' | 'text' | 'none';
  /** The recognised codings (for the card's list of matched entries). */
  readonly codings: readonly Coding[];
  /** The text phrase stood after "possible", "r/o", "?"... */
  readonly textSuspected: boolean;
  /** A stenosis code without a region (M48.00, SNOMED 76107001). */
  readonly regionUnknown: boolean;
}

const NONE: Classification = Object.freeze({ classes: new Set<KnowledgeClass>(), matchedBy: 'none', codings: Object.freeze([]), textSuspected: false, regionUnknown: false });

/** What the codings and texts of one reading found; its set and list are made only on a first hit. */
interface Found {
  classes: Set<KnowledgeClass> | undefined;
  recognised: Coding[] | undefined;
  regionUnknown: boolean;
  suspected: boolean;
}

function nothingFound(): Found {
  return { classes: undefined, recognised: undefined, regionUnknown: false, suspected: false };
}

/** Adds a coding the knowledge recognised: its classes, and whether it was a stenosis without a region. */
function addRecognised(coding: Coding, info: CodeInfo, found: Found): void {
  (found.recognised ??= []).push(coding);
  const classes = (found.classes ??= new Set());
  for (const cls of info.classes) classes.add(cls);
  found.regionUnknown ||= info.regionUnknown;
}

/** Adds the classes of the concept's recognised codings and whether one was a stenosis without a region. */
function addCodeClasses(concept: Concept, knowledge: Knowledge, found: Found): void {
  for (const coding of concept.codings) {
    if (!coding.system || !coding.code) continue;
    const info = knowledge.codes.lookup(coding.system, coding.code);
    if (info) addRecognised(coding, info, found);
  }
}

/** Adds the text classes one text matches, and whether the match was suspected; what was found, made on a first match. */
function addTextClasses(text: string, knowledge: Knowledge, textClasses: readonly TextClass[], found: Found | undefined): Found | undefined {
  const match = knowledge.text.match(text);
  if (match.classes.size === 0) return found;
  const into = found ?? nothingFound();
  for (const cls of match.classes) {
    if (textClasses.includes(cls)) (into.classes ??= new Set()).add(cls);
  }
  into.suspected ||= match.suspected;
  return into;
}

/** The classification of what was found: by code when a coding was recognised, else by text, else none. */
function classificationOf(found: Found): Classification {
  if (found.recognised !== undefined && found.classes !== undefined) {
    return { classes: found.classes, matchedBy: 'code', codings: found.recognised, textSuspected: false, regionUnknown: found.regionUnknown };
  }
  if (found.classes === undefined) return NONE;
  return { classes: found.classes, matchedBy: 'text', codings: [], textSuspected: found.suspected, regionUnknown: false };
}

/**
 * Clinical policy §1: a coding is recognised when its system and code appear anywhere in the
 * knowledge; a concept with a recognised coding is classified by its codes only, otherwise by its
 * text, else by its codings' displays. Reads the CodeableConcept as the client sent it, field by
 * field as `readConcept` does (a bare code string has no system, so it matches nothing), and makes
 * a Coding only for a recognised one: most entries of a problem list match no class at all.
 */
export function classifyCode(value: unknown, knowledge: Knowledge, textClasses: readonly TextClass[]): Classification {
  if (!isObject(value)) return NONE;
  const codings = list(value['coding']);
  // Made on a first hit only: most entries of a record match nothing.
  let found: Found | undefined;
  for (const coding of codings) {
    if (!isObject(coding)) continue;
    const system = str(coding['system']);
    const code = str(coding['code']);
    const info = system && code ? knowledge.codes.lookup(system, code) : undefined;
    if (info) addRecognised({ system, code, display: str(coding['display']) }, info, (found ??= nothingFound()));
  }
  if (found?.recognised === undefined) {
    const text = str(value['text']);
    if (text) found = addTextClasses(text, knowledge, textClasses, found);
    else {
      for (const coding of codings) {
        const display = isObject(coding) ? str(coding['display']) : undefined;
        if (display !== undefined) found = addTextClasses(display, knowledge, textClasses, found);
      }
    }
  }
  return found ? classificationOf(found) : NONE;
}

/**
 * The same reading over several concepts (an appointment's serviceType, appointmentType,
 * specialty and reasonCode, clinical policy §3): their codings first; only when none is
 * recognised, their texts and then `moreTexts` (the appointment's description).
 */
export function classifyConcepts(
  concepts: readonly Concept[],
  moreTexts: readonly string[],
  knowledge: Knowledge,
  textClasses: readonly TextClass[],
): Classification {
  const found = nothingFound();
  for (const concept of concepts) addCodeClasses(concept, knowledge, found);
  if (found.recognised === undefined) {
    for (const text of [...concepts.flatMap(conceptTexts), ...moreTexts]) addTextClasses(text, knowledge, textClasses, found);
  }
  return classificationOf(found);
}
