/** Record classes of clinical policy §2. */
export const CONDITION_CLASSES = ['CORD', 'STENOSIS', 'RADICULOPATHY', 'RED_FLAG', 'DECOMPRESSED', 'MALIGNANT', 'NOT_TRIGGER'] as const;
/** Therapy classes of clinical policy §3 (plus the recognised non-conflicting orders). */
export const THERAPY_CLASSES = ['MASSAGE', 'MANUAL', 'MANIPULATION', 'NOT_CONFLICT'] as const;
/** Body-site classes of clinical policy §3. */
export const SITE_CLASSES = ['SITE_CERVICAL', 'SITE_UNSPECIFIED', 'SITE_REMOTE'] as const;

export const ALL_CLASSES = [...CONDITION_CLASSES, ...THERAPY_CLASSES, ...SITE_CLASSES] as const;
export type KnowledgeClass = (typeof ALL_CLASSES)[number];

/** The classes that text phrases may assign (body sites have their own word lists). */
export const TEXT_CLASSES = ['CORD', 'STENOSIS', 'RADICULOPATHY', 'RED_FLAG', 'DECOMPRESSED', 'MALIGNANT', 'MASSAGE', 'MANUAL', 'MANIPULATION'] as const;
export type TextClass = (typeof TEXT_CLASSES)[number];

export type ConflictClass = 'MASSAGE' | 'MANUAL' | 'MANIPULATION';
export const CONFLICT_CLASSES: readonly ConflictClass[] = ['MASSAGE', 'MANUAL', 'MANIPULATION'];

export type Site = 'cervical' | 'unspecified' | 'remote';
