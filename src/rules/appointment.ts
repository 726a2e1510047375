import { CONFLICT_CLASSES, type Site } from '../knowledge/classes.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { readDay } from '../fhir/dates.js';
import { conceptTexts, isObject, list, objects, readConcept, statusCode, str, type Concept, type JsonObject } from '../fhir/json.js';
import { referencesPatient } from '../fhir/references.js';
import { classifyConcepts } from './classify.js';
import { ORDER_TEXT_CLASSES, SITE_RANK, type OrderEntry } from './order.js';

/**
 * The FHIR R4 appointment statuses other than proposed, pending and booked (clinical policy §3).
 * A status missing or spelt any other way is no status, which keeps the alert (§1).
 */
const CLOSED_STATUSES = new Set(['arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'checked-in', 'waitlist']);

/** The fields an appointment's class is read from (clinical policy §3), each one or many CodeableConcepts. */
const CLASS_FIELDS = ['serviceType', 'appointmentType', 'specialty', 'reasonCode'] as const;

/**
 * Whether the appointment is the patient's: a participant actor references the patient, or no
 * participant names any patient at all (clinical policy §3).
 */
export function isPatientsAppointment(resource: JsonObject, patientId: string): boolean {
  let namesAPatient = false;
  for (const participant of objects(resource['participant'])) {
    const actor = participant['actor'];
    const reference = isObject(actor) ? str(actor['reference']) : undefined;
    if (reference === undefined) continue;
    if (referencesPatient(reference, patientId)) return true;
    if (/(?:^|\/)Patient\//.test(reference)) namesAPatient = true;
  }
  return !namesAPatient;
}

/** A CodeableConcept, or the `concept` of an R5 CodeableReference. */
function conceptOf(value: unknown): Concept | undefined {
  return readConcept(isObject(value) && isObject(value['concept']) && value['coding'] === undefined ? value['concept'] : value);
}

function classConcepts(resource: JsonObject): Concept[] {
  const concepts: Concept[] = [];
  for (const field of CLASS_FIELDS) {
    const value = resource[field];
    for (const item of Array.isArray(value) ? list(value) : [value]) {
      const concept = conceptOf(item);
      if (concept) concepts.push(concept);
    }
  }
  return concepts;
}

/** The most cervical site named by the site words of `texts`, else unspecified. */
function siteOfTexts(texts: readonly string[], knowledge: Knowledge): { site: Site; label: string | undefined } {
  let best: { site: Site; label: string | undefined } | undefined;
  for (const text of texts) {
    const site = knowledge.text.bodySite(text);
    if (site && (!best || SITE_RANK[site] > SITE_RANK[best.site])) best = { site, label: text };
  }
  return best ?? { site: 'unspecified', label: undefined };
}

/**
 * Reads a proposed appointment into the shape the decision table and the card builder take (the
 * appointment in place of the order, clinical policy §4); undefined when it is not open, not the
 * patient's, or not a massage / manual / manipulation appointment.
 */
export function readAppointment(resource: JsonObject, patientId: string, knowledge: Knowledge): OrderEntry | undefined {
  if (resource['resourceType'] !== 'Appointment') return undefined;
  const status = statusCode(resource['status']);
  if (status !== undefined && CLOSED_STATUSES.has(status)) return undefined;
  if (!isPatientsAppointment(resource, patientId)) return undefined;
  const concepts = classConcepts(resource);
  const description = str(resource['description']);
  const cls = classifyConcepts(concepts, description ? [description] : [], knowledge, ORDER_TEXT_CLASSES);
  if (cls.matchedBy === 'none') return undefined;
  const classes = new Set(CONFLICT_CLASSES.filter((c) => cls.classes.has(c)));
  if (classes.size === 0) return undefined;
  const texts = concepts.flatMap(conceptTexts);
  const comment = str(resource['comment']);
  const siteTexts = [...texts, ...(description ? [description] : []), ...(comment ? [comment] : [])];
  const site = siteOfTexts(siteTexts, knowledge);
  return {
    resourceType: 'Appointment',
    id: str(resource['id']),
    label: texts[0] ?? description ?? 'Manual therapy appointment',
    classes,
    matchedBy: cls.matchedBy,
    site: site.site,
    siteBasis: site.label === undefined ? 'absent' : 'text',
    siteLabel: site.label,
    authoredOn: readDay(resource['created']),
    resource,
  };
}
