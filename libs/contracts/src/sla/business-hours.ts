import { z } from 'zod';
import { defineRequest } from '../define';

/**
 * Business hours are owned by the sla service (calendars: time zone, weekly schedule, holidays).
 * Routing rules ("outside business hours") and automation (away replies) ask it whether a moment is inside.
 * Give `businessHoursId`, or `teamId` to use the team's calendar; neither (or a team without one) = always open.
 */
export const BusinessHoursStateV1 = defineRequest({
  subject: 'sla.business-hours-state.v1',
  service: 'sla',
  request: z.object({
    businessHoursId: z.string().uuid().optional(),
    teamId: z.string().uuid().optional(),
    at: z.string().datetime({ offset: true }),
  }),
  response: z.object({
    open: z.boolean(),
    /** When the hours next open (null when open now or no calendar applies). */
    nextOpenAt: z.string().nullable(),
    businessHoursId: z.string().uuid().nullable(),
    timeZone: z.string().nullable(),
  }),
  timeoutMs: 2_000,
});
