import { CONFLICT_CLASSES, type ConflictClass, type Site } from '../knowledge/classes.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { readDay, type DayRange } from '../fhir/dates.js';
import { conceptTexts, firstConceptText, isObject, objects, readConcept, statusCode, str, type Coding, type JsonObject } from '../fhir/json.js';
import { classifyCode } from './classify.js';

/** Resource types read as orders: R4 ServiceRequest and its STU3/DSTU2 predecessor. */
const ORDER_TYPES = new Set(['ServiceRequest', 'ProcedureRequest']);
const CLOSED_STATUSES = new Set(['revoked', 'completed', 'entered-in-error']);
export const ORDER_TEXT_CLASSES = ['MASSAGE', 'MANUAL', 'MANIPULATION'] as const;

/** How the body site was decided, so the card can say when it assumed. */
export type SiteBasis = 'code' | 'text' | 'absent' | 'unrecognised';

/** A conflicting-therapy order as the rules see it. */
export interface OrderEntry {
  readonly resourceType: string;
  readonly id: string | undefined;
  /** The record's own name for the order; the card names it from the knowledge otherwise. */
  readonly label: string | undefined;
  /** The recognised codings (to name an order sent without a display). */
  readonly codings: readonly Coding[];
  readonly classes: ReadonlySet<ConflictClass>;
  readonly matchedBy: 'code' | 'text';
  readonly site: Site;
  readonly siteBasis: SiteBasis;
  readonly siteLabel: string | undefined;
  readonly authoredOn: DayRange | undefined;
  /** The order as the client sent it (for update and create actions built from it). */
  readonly resource: JsonObject;
}

export const SITE_RANK: Record<Site, number> = { remote: 0, unspecified: 1, cervical: 2 };

/** Clinical policy §3: the site of an order, the most cervical of its bodySites. */
export function readSite(resource: JsonObject, knowledge: Knowledge): { site: Site; basis: SiteBasis; label: string | undefined } {
  const raw = resource['bodySite'];
  // R4 sends an array; a lone CodeableConcept is read the same way rather than dropped.
  const sites = isObject(raw) ? [raw] : objects(raw);
  if (sites.length === 0) return { site: 'unspecified', basis: 'absent', label: undefined };
  let best: { site: Site; basis: SiteBasis; label: string | undefined } | undefined;
  for (const site of sites) {
    const concept = readConcept(site);
    const label = conceptTexts(concept)[0];
    let found: { site: Site; basis: SiteBasis } | undefined;
    for (const coding of concept?.codings ?? []) {
      if (!coding.system || !coding.code) continue;
      const info = knowledge.codes.lookup(coding.system, coding.code);
      if (!info) continue;
      const site: Site | undefined = info.classes.includes('SITE_CERVICAL')
        ? 'cervical'
        : info.classes.includes('SITE_UNSPECIFIED')
          ? 'unspecified'
          : info.classes.includes('SITE_REMOTE')
            ? 'remote'
            : undefined;
      if (site && (!found || SITE_RANK[site] > SITE_RANK[found.site])) found = { site, basis: 'code' };
    }
    if (!found) {
      for (const text of conceptTexts(concept)) {
        const site = knowledge.text.bodySite(text);
        if (site && (!found || SITE_RANK[site] > SITE_RANK[found.site])) found = { site, basis: 'text' };
      }
    }
    const candidate = found ? { site: found.site, basis: found.basis, label } : { site: 'unspecified' as const, basis: 'unrecognised' as const, label };
    if (!best || SITE_RANK[candidate.site] > SITE_RANK[best.site]) best = candidate;
  }
  return best ?? { site: 'unspecified', basis: 'absent', label: undefined };
}

/** Whether a resource is an open order (clinical policy §3). */
export function isOpenOrder(resource: JsonObject): boolean {
  const type = str(resource['resourceType']);
  if (!type || !ORDER_TYPES.has(type)) return false;
  const status = statusCode(resource['status']);
  return status === undefined || !CLOSED_STATUSES.has(status);
}

/** The order's code: a CodeableConcept, or the `concept` of an R5 CodeableReference. */
function orderCode(resource: JsonObject): unknown {
  const code = resource['code'];
  return isObject(code) && isObject(code['concept']) && code['coding'] === undefined ? code['concept'] : code;
}

/** Reads an order; undefined when it is closed, not an order, or not a massage / manual / manipulation order. */
export function readOrder(resource: JsonObject, knowledge: Knowledge): OrderEntry | undefined {
  if (!isOpenOrder(resource)) return undefined;
  const code = orderCode(resource);
  const cls = classifyCode(code, knowledge, ORDER_TEXT_CLASSES);
  if (cls.matchedBy === 'none') return undefined;
  const classes = new Set(CONFLICT_CLASSES.filter((c) => cls.classes.has(c)));
  if (classes.size === 0) return undefined;
  const site = readSite(resource, knowledge);
  return {
    resourceType: str(resource['resourceType']) ?? 'ServiceRequest',
    id: str(resource['id']),
    label: firstConceptText(code),
    codings: cls.codings,
    classes,
    matchedBy: cls.matchedBy,
    site: site.site,
    siteBasis: site.basis,
    siteLabel: site.label,
    authoredOn: readDay(resource['authoredOn']) ?? readDay(resource['orderedOn']),
    resource,
  };
}
