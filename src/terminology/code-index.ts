import type { KnowledgeClass } from '../knowledge/classes.js';

export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const REGION_UNKNOWN_EXTENSION = 'urn:spine-safety-cds:extension:region-unknown';

/** What the knowledge says about one code. */
export interface CodeInfo {
  readonly classes: readonly KnowledgeClass[];
  /** Stenosis recorded without a region (treated as cervical, and said so on the card). */
  readonly regionUnknown: boolean;
}

/** Other spellings of a system URI (OID forms, the https form of HCPCS) mapped to the URI, from knowledge/code-systems.json. */
export type SystemAliases = ReadonlyMap<string, string>;

/** System URIs compare exactly, except the aliases the knowledge names for them (clinical policy §1). */
export function normaliseSystem(system: string, aliases: SystemAliases): string {
  const trimmed = system.trim();
  return aliases.get(trimmed) ?? trimmed;
}

/** Codes compare case-insensitively; ICD-10-CM with or without its dot (`M48.02` = `M4802`). */
export function normaliseCode(system: string, code: string): string {
  const upper = code.trim().toUpperCase();
  return system === ICD10CM ? upper.replace(/\./g, '') : upper;
}

const MAX_REMEMBERED_ANSWERS = 10_000;

interface FilterEntry {
  readonly pattern: RegExp;
  readonly cls: KnowledgeClass;
}

/**
 * Value sets indexed once at start-up: O(1) lookup for enumerated codes, then the few regex
 * families (e.g. ICD-10-CM `N31.x`, `C00-C96`) tested against the normalised code.
 */
export class CodeIndex {
  private readonly exact = new Map<string, { classes: KnowledgeClass[]; regionUnknown: boolean }>();
  private readonly filters = new Map<string, FilterEntry[]>();
  /** Answers by system and code as sent, bounded: a chart repeats the same few hundred codings. `null`: not recognised. */
  private readonly answers = new Map<string, Map<string, CodeInfo | null>>();
  private remembered = 0;

  constructor(private readonly aliases: SystemAliases = new Map()) {}

  addConcept(system: string, code: string, cls: KnowledgeClass, regionUnknown: boolean): void {
    const sys = normaliseSystem(system, this.aliases);
    const key = `${sys}|${normaliseCode(sys, code)}`;
    const entry = this.exact.get(key) ?? { classes: [], regionUnknown: false };
    if (!entry.classes.includes(cls)) entry.classes.push(cls);
    entry.regionUnknown = entry.regionUnknown || regionUnknown;
    this.exact.set(key, entry);
    this.forget();
  }

  addFilter(system: string, pattern: string, cls: KnowledgeClass): void {
    const sys = normaliseSystem(system, this.aliases);
    const list = this.filters.get(sys) ?? [];
    list.push({ pattern: new RegExp(pattern), cls });
    this.filters.set(sys, list);
    this.forget();
  }

  /** The classes of a coding, or undefined when the coding is not recognised at all. */
  lookup(system: string, code: string): CodeInfo | undefined {
    // One map read per coding: most codings of a chart are not recognised, and remembered as null.
    const known = this.answers.get(system)?.get(code);
    if (known !== undefined) return known ?? undefined;
    const info = this.compute(system, code);
    if (this.remembered >= MAX_REMEMBERED_ANSWERS) this.forget();
    const bySystem = this.answers.get(system) ?? new Map<string, CodeInfo | null>();
    bySystem.set(code, info ?? null);
    this.answers.set(system, bySystem);
    this.remembered += 1;
    return info;
  }

  private forget(): void {
    this.answers.clear();
    this.remembered = 0;
  }

  private compute(system: string, code: string): CodeInfo | undefined {
    const sys = normaliseSystem(system, this.aliases);
    const normalised = normaliseCode(sys, code);
    const exact = this.exact.get(`${sys}|${normalised}`);
    const filters = this.filters.get(sys);
    if (!filters) return exact;
    let classes: KnowledgeClass[] | undefined = exact ? [...exact.classes] : undefined;
    for (const filter of filters) {
      if (filter.pattern.test(normalised)) {
        classes ??= [];
        if (!classes.includes(filter.cls)) classes.push(filter.cls);
      }
    }
    if (!classes) return undefined;
    return { classes, regionUnknown: exact?.regionUnknown ?? false };
  }
}
