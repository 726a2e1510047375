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

/**
 * Clinical policy §1: a coding is recognised when its system and code appear anywhere in the
 * knowledge; a concept with a recognised coding is classified by its codes only, otherwise by its text.
 */
export function classifyConcept(concept: Concept | undefined, knowledge: Knowledge, textClasses: readonly TextClass[]): Classification {
  if (!concept) return NONE;
  const classes = new Set<KnowledgeClass>();
  const recognised: Coding[] = [];
  let regionUnknown = false;
  for (const coding of concept.codings) {
    if (!coding.system || !coding.code) continue;
    const info = knowledge.codes.lookup(coding.system, coding.code);
    if (!info) continue;
    recognised.push(coding);
    for (const cls of info.classes) classes.add(cls);
    regionUnknown ||= info.regionUnknown;
  }
  if (recognised.length > 0) return { classes, matchedBy: 'code', codings: recognised, textSuspected: false, regionUnknown };

  let suspected = false;
  for (const text of conceptTexts(concept)) {
    const match = knowledge.text.match(text);
    for (const cls of match.classes) {
      if (textClasses.includes(cls)) classes.add(cls);
    }
    if (match.classes.size > 0 && match.suspected) suspected = true;
  }
  if (classes.size === 0) return NONE;
  return { classes, matchedBy: 'text', codings: [], textSuspected: suspected, regionUnknown: false };
}
