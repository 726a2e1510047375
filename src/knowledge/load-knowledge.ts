import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { z } from 'zod';
import { SUMMARY_MAX } from '../cards/summary.js';
import { projectRoot } from '../paths.js';
import { ConceptNames } from './concept-names.js';
import { NAMED_CLASSES, POLICY_ROWS, ROW_VARIANTS, SAFER_READINGS, type PolicyRow } from '../rules/decide.js';
import { CodeIndex, REGION_UNKNOWN_EXTENSION } from '../terminology/code-index.js';
import { compileTextRules, type CompiledTextRules } from '../terminology/text-match.js';
import {
  CardCatalogueFile,
  CardTemplateFile,
  CodeSystemsFile,
  HookDefinitionFile,
  KNOWLEDGE_CLASS,
  TextRulesFile,
  ValueSetFile,
} from './schemas.js';

/** Everything the service knows, loaded and checked once at start-up, then frozen. */
export interface Knowledge {
  /** Version of the knowledge as a whole (recorded with every issued card). */
  readonly version: string;
  readonly codes: CodeIndex;
  readonly text: CompiledTextRules;
  readonly hooks: readonly HookDefinitionFile[];
  /** Card templates by card id. */
  readonly cards: ReadonlyMap<string, CardTemplateFile>;
  /** The one template of each decision-table row. */
  readonly cardForRow: ReadonlyMap<PolicyRow, CardTemplateFile>;
  readonly names: ConceptNames;
  readonly catalogue: CardCatalogueFile;
  /** Value sets as loaded (the FHIR resource itself, served under /fhir) with their provenance for the rationale pages. */
  readonly valueSets: ReadonlyArray<LoadedValueSet>;
}

export interface LoadedValueSet {
  readonly id: string;
  readonly title: string;
  readonly version: string;
  readonly sources: string[];
  readonly resource: ValueSetFile;
}

export class KnowledgeError extends Error {
  override readonly name = 'KnowledgeError';
}


function readJson(file: string, root: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KnowledgeError(`${relative(root, file)}: cannot be read (${error instanceof Error ? error.message : 'unknown error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new KnowledgeError(`${relative(root, file)}: not valid JSON (${error instanceof Error ? error.message : 'parse error'})`);
  }
}

function parseFile<S extends z.ZodType>(schema: S, file: string, root: string): z.output<S> {
  const result = schema.safeParse(readJson(file, root));
  if (!result.success) {
    const first = result.error.issues[0];
    const field = first && first.path.length > 0 ? first.path.join('.') : '(root)';
    throw new KnowledgeError(`${relative(root, file)}: ${field}: ${first?.message ?? 'invalid'}`);
  }
  return result.data;
}

function jsonFiles(dir: string, root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new KnowledgeError(`${relative(root, dir)}: folder is missing`);
  }
  return names.filter((name) => name.endsWith('.json')).sort().map((name) => join(dir, name));
}

/** Alias → URI; an alias that is itself a URI, or names two systems, is a knowledge error. */
function readSystemAliases(root: string): Map<string, string> {
  const file = join(root, 'knowledge', 'code-systems.json');
  const systems = parseFile(CodeSystemsFile, file, root).systems;
  const uris = new Set(systems.map((system) => system.uri));
  const aliases = new Map<string, string>();
  for (const system of systems) {
    for (const alias of system.aliases) {
      if (uris.has(alias) || aliases.has(alias)) throw new KnowledgeError(`${relative(root, file)}: systems: alias ${alias} is ambiguous`);
      aliases.set(alias, system.uri);
    }
  }
  return aliases;
}

const CATALOGUE = 'cards/catalogue.json';

/** The catalogue names every class a card may name, and words every safer reading the decision table takes. */
function checkCatalogue(catalogue: CardCatalogueFile, names: ConceptNames): void {
  for (const cls of NAMED_CLASSES) {
    const short = catalogue.shortNames.classes[cls];
    if (!short) throw new KnowledgeError(`${CATALOGUE}: shortNames.classes.${cls}: a card may name this class; give its short name`);
    names.addClassShort(cls, short);
  }
  for (const entry of catalogue.shortNames.codes) names.addShort(entry.system, entry.code, entry.short);
  for (const reading of SAFER_READINGS) {
    if (!catalogue.readings[reading]) throw new KnowledgeError(`${CATALOGUE}: readings.${reading}: the decision table takes this reading; word it`);
  }
}

function checkSuggestions(where: string, field: string, suggestions: CardTemplateFile['suggestions'], catalogue: CardCatalogueFile): void {
  suggestions.forEach((suggestion, index) => {
    suggestion.actions.forEach((action, at) => {
      if (action.type === 'create-order' && !(action.order in catalogue.orders)) {
        throw new KnowledgeError(`${where}: ${field}.${index}.actions.${at}.order: unknown order template ${action.order}`);
      }
    });
  });
}

/**
 * A summary filled with the longest of the catalogue's short names (the order's, and two
 * conditions joined) must still fit: then a card never has to cut a name to fit its summary.
 */
function checkSummaryFits(where: string, field: string, summary: string, catalogue: CardCatalogueFile): void {
  const shorts = catalogue.shortNames;
  const longest = (names: ReadonlyArray<string | undefined>) => Math.max(0, ...names.map((n) => n?.length ?? 0));
  const order = longest([shorts.classes.MASSAGE, shorts.classes.MANUAL, shorts.classes.MANIPULATION]);
  const conditions = [shorts.classes.CORD, shorts.classes.STENOSIS, shorts.classes.RADICULOPATHY, shorts.classes.RED_FLAG, ...shorts.codes.map((c) => c.short)]
    .map((n) => n?.length ?? 0)
    .sort((a, b) => b - a);
  const condition = (conditions[0] ?? 0) + (conditions[1] ?? 0) + catalogue.namesJoinedBy.length;
  const fixed = summary.replace(/\{[oO]rder\}/g, '').replaceAll('{condition}', '').length;
  const worst = fixed + order * (summary.match(/\{[oO]rder\}/g)?.length ?? 0) + condition * (summary.split('{condition}').length - 1);
  if (worst > SUMMARY_MAX) throw new KnowledgeError(`${where}: ${field}: ${worst} characters with the longest short names; a summary has at most ${SUMMARY_MAX}`);
}

/** The row of a template, checked against the decision table. */
function templateRow(where: string, row: number): PolicyRow {
  const known = POLICY_ROWS.find((r) => r === row);
  if (known === undefined) throw new KnowledgeError(`${where}: row: the decision table has no row ${row}`);
  return known;
}

/** A template declares exactly the wording variants its row can ask for. */
function checkVariants(where: string, row: PolicyRow, card: CardTemplateFile, catalogue: CardCatalogueFile): void {
  const wanted: readonly string[] = ROW_VARIANTS[row];
  for (const [key, variant] of Object.entries(card.variants)) {
    if (!wanted.includes(key)) throw new KnowledgeError(`${where}: variants.${key}: row ${row} has no such variant`);
    checkSuggestions(where, `variants.${key}.suggestions`, variant.suggestions ?? [], catalogue);
    if (variant.summary) checkSummaryFits(where, `variants.${key}.summary`, variant.summary, catalogue);
    if ((variant.suggestions?.length ?? 0) > 0 && !card.selectionBehavior) {
      throw new KnowledgeError(`${where}: selectionBehavior: required when the card has suggestions`);
    }
  }
  for (const key of wanted) {
    if (!(key in card.variants)) throw new KnowledgeError(`${where}: variants.${key}: required by decision table row ${row}`);
  }
}

/** Card templates: one per decision-table row, every name they use known to the catalogue. */
function loadCardTemplates(
  root: string,
  catalogue: CardCatalogueFile,
  valueSets: readonly LoadedValueSet[],
): { cards: Map<string, CardTemplateFile>; cardForRow: Map<PolicyRow, CardTemplateFile> } {
  const cards = new Map<string, CardTemplateFile>();
  const cardForRow = new Map<PolicyRow, CardTemplateFile>();
  const fileOfRow = new Map<PolicyRow, string>();
  for (const file of jsonFiles(join(root, 'cards', 'templates'), root)) {
    const card = parseFile(CardTemplateFile, file, root);
    const where = relative(root, file);
    if (cards.has(card.id)) throw new KnowledgeError(`${where}: id: duplicate card id ${card.id}`);
    const row = templateRow(where, card.row);
    const other = fileOfRow.get(row);
    if (other) throw new KnowledgeError(`${where}: row: row ${row} already has its template in ${other}`);
    for (const code of card.overrideReasons) {
      if (!(code in catalogue.overrideReasons)) throw new KnowledgeError(`${where}: overrideReasons: unknown reason ${code}`);
    }
    for (const id of card.valueSets) {
      if (!valueSets.some((vs) => vs.id === id)) throw new KnowledgeError(`${where}: valueSets: unknown value set ${id}`);
    }
    for (const ref of card.rationale.references) {
      if (!(ref in catalogue.references)) throw new KnowledgeError(`${where}: rationale.references: unknown reference ${ref}`);
    }
    checkSuggestions(where, 'suggestions', card.suggestions, catalogue);
    checkSummaryFits(where, 'summary', card.summary, catalogue);
    if (card.suggestions.length > 0 && !card.selectionBehavior) {
      throw new KnowledgeError(`${where}: selectionBehavior: required when the card has suggestions`);
    }
    checkVariants(where, row, card, catalogue);
    cards.set(card.id, card);
    cardForRow.set(row, card);
    fileOfRow.set(row, where);
  }
  for (const row of POLICY_ROWS) {
    if (!cardForRow.has(row)) throw new KnowledgeError(`cards/templates: row: decision table row ${row} has no card template`);
  }
  return { cards, cardForRow };
}

/**
 * Loads value sets, text rules, hook definitions and card templates. A broken file stops the
 * service with a message naming the file and the field.
 */
export function loadKnowledge(root: string = projectRoot()): Knowledge {
  const aliases = readSystemAliases(root);
  const codes = new CodeIndex(aliases);
  const names = new ConceptNames(aliases);
  const valueSets: LoadedValueSet[] = [];
  for (const file of jsonFiles(join(root, 'knowledge', 'valuesets'), root)) {
    const vs = parseFile(ValueSetFile, file, root);
    const clsExt = vs.extension.find((ext) => ext.url === 'urn:spine-safety-cds:extension:policy-class');
    const cls = KNOWLEDGE_CLASS.safeParse(clsExt?.valueCode);
    if (!cls.success) throw new KnowledgeError(`${relative(root, file)}: extension.policy-class: missing or unknown class`);
    const sources = vs.extension.filter((ext) => ext.url === 'urn:spine-safety-cds:extension:source').map((ext) => ext.valueString ?? '');
    if (sources.length === 0 || sources.some((s) => s === '')) {
      throw new KnowledgeError(`${relative(root, file)}: extension.source: every value set names its source`);
    }
    for (const include of vs.compose.include) {
      for (const concept of include.concept ?? []) {
        const regionUnknown = (concept.extension ?? []).some((ext) => ext.url === REGION_UNKNOWN_EXTENSION && ext.valueBoolean === true);
        codes.addConcept(include.system, concept.code, cls.data, regionUnknown);
        names.addDisplay(include.system, concept.code, concept.display);
      }
      for (const filter of include.filter ?? []) codes.addFilter(include.system, filter.value, cls.data);
    }
    valueSets.push({ id: vs.id, title: vs.title, version: vs.version, sources, resource: vs });
  }
  if (valueSets.length === 0) throw new KnowledgeError('knowledge/valuesets: no value sets found');

  const textRules = parseFile(TextRulesFile, join(root, 'knowledge', 'text-rules.json'), root);
  const catalogue = parseFile(CardCatalogueFile, join(root, CATALOGUE), root);

  checkCatalogue(catalogue, names);
  const { cards, cardForRow } = loadCardTemplates(root, catalogue, valueSets);

  const hooks = jsonFiles(join(root, 'hooks'), root).map((file) => {
    const hook = parseFile(HookDefinitionFile, file, root);
    const needed = hook.evaluates === 'patient-orders' ? ['conditions', 'procedures', 'serviceRequests'] : ['conditions', 'procedures'];
    for (const key of needed) {
      if (!(key in hook.prefetch)) throw new KnowledgeError(`${relative(root, file)}: prefetch.${key}: template required`);
    }
    return hook;
  });
  const ids = new Set(hooks.map((hook) => hook.id));
  if (hooks.length === 0 || ids.size !== hooks.length) throw new KnowledgeError('hooks: definitions missing or service ids repeated');

  const version = [textRules.version, catalogue.version, ...valueSets.map((vs) => vs.version)].sort().at(-1) ?? textRules.version;
  return Object.freeze({
    version,
    codes,
    text: compileTextRules(textRules),
    hooks: Object.freeze(hooks),
    cards,
    cardForRow,
    names,
    catalogue,
    valueSets: Object.freeze(valueSets),
  });
}
