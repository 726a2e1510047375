import type { KnowledgeClass, TextClass } from '../knowledge/classes.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { conceptTexts, type Coding, type Concept } from '../fhir/json.js';

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

const NONE: Classification = { classes: new Set(), matchedBy: 'none', codings: [], textSuspected: false, regionUnknown: false };

/** Adds the classes of the concept's recognised codings; returns whether one was a stenosis without a region. */
function addCodeClasses(concept: Concept, knowledge: Knowledge, classes: Set<KnowledgeClass>, recognised: Coding[]): boolean {
  let regionUnknown = false;
  for (const coding of concept.codings) {
    if (!coding.system || !coding.code) continue;
    const info = knowledge.codes.lookup(coding.system, coding.code);
    if (!info) continue;
    recognised.push(coding);
    for (const cls of info.classes) classes.add(cls);
    regionUnknown ||= info.regionUnknown;
  }
  return regionUnknown;
}

/** Adds the text classes one text matches; returns whether the match was suspected. */
function addTextClasses(text: string, knowledge: Knowledge, textClasses: readonly TextClass[], classes: Set<KnowledgeClass>): boolean {
  const match = knowledge.text.match(text);
  for (const cls of match.classes) {
    if (textClasses.includes(cls)) classes.add(cls);
  }
  return match.classes.size > 0 && match.suspected;
}

/**
 * Clinical policy §1: a coding is recognised when its system and code appear anywhere in the
 * knowledge; a concept with a recognised coding is classified by its codes only, otherwise by its text.
 */
export function classifyConcept(concept: Concept | undefined, knowledge: Knowledge, textClasses: readonly TextClass[]): Classification {
  if (!concept) return NONE;
  const classes = new Set<KnowledgeClass>();
  const recognised: Coding[] = [];
  const regionUnknown = addCodeClasses(concept, knowledge, classes, recognised);
  if (recognised.length > 0) return { classes, matchedBy: 'code', codings: recognised, textSuspected: false, regionUnknown };

  let suspected = false;
  for (const text of conceptTexts(concept)) suspected = addTextClasses(text, knowledge, textClasses, classes) || suspected;
  if (classes.size === 0) return NONE;
  return { classes, matchedBy: 'text', codings: [], textSuspected: suspected, regionUnknown: false };
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
  const classes = new Set<KnowledgeClass>();
  const recognised: Coding[] = [];
  let regionUnknown = false;
  for (const concept of concepts) regionUnknown = addCodeClasses(concept, knowledge, classes, recognised) || regionUnknown;
  if (recognised.length > 0) return { classes, matchedBy: 'code', codings: recognised, textSuspected: false, regionUnknown };

  let suspected = false;
  for (const text of [...concepts.flatMap(conceptTexts), ...moreTexts]) suspected = addTextClasses(text, knowledge, textClasses, classes) || suspected;
  if (classes.size === 0) return NONE;
  return { classes, matchedBy: 'text', codings: [], textSuspected: suspected, regionUnknown: false };
}
