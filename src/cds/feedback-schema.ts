import { z } from 'zod';

/**
 * A FHIR Coding as sent in `overrideReason.reason`. Only `code` is required: the CDS Hooks
 * sandbox sends the code without `system` or `display`.
 */
export const FeedbackCoding = z.looseObject({
  code: z.string().min(1).max(256),
  system: z.string().max(1024).optional(),
  display: z.string().max(1024).optional(),
});
export type FeedbackCoding = z.infer<typeof FeedbackCoding>;

/** `overrideReason`: a coded reason the user picked from our `overrideReasons`, a free-text comment, or both. */
export const OverrideReason = z.looseObject({
  reason: FeedbackCoding.optional(),
  userComment: z.string().optional(),
});
export type OverrideReason = z.infer<typeof OverrideReason>;

export const AcceptedSuggestion = z.looseObject({ id: z.string().min(1).max(256) });
export type AcceptedSuggestion = z.infer<typeof AcceptedSuggestion>;

/**
 * One element of the feedback array: what the user did with one card we returned.
 * `acceptedSuggestions` is required when the outcome is `accepted`.
 * Unknown fields (`extension` and others) are allowed and ignored.
 *
 * @see https://cds-hooks.hl7.org/2.0/#feedback
 */
export const FeedbackItem = z
  .looseObject({
    card: z.string().min(1).max(256),
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z.array(AcceptedSuggestion).max(1000).optional(),
    overrideReason: OverrideReason.optional(),
    /** RFC 3339 §5.6 date-time with `Z` or a numeric offset. */
    outcomeTimestamp: z.iso.datetime({ offset: true }),
  })
  .superRefine((item, ctx) => {
    if (item.outcome === 'accepted' && item.acceptedSuggestions === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['acceptedSuggestions'],
        message: 'acceptedSuggestions is required when outcome is accepted',
      });
    }
  });
export type FeedbackItem = z.infer<typeof FeedbackItem>;

/**
 * The body of `POST {baseUrl}/cds-services/{id}/feedback`.
 *
 * @see https://cds-hooks.hl7.org/2.0/#feedback
 */
export const FeedbackRequest = z.looseObject({
  feedback: z.array(FeedbackItem),
});
export type FeedbackRequest = z.infer<typeof FeedbackRequest>;
