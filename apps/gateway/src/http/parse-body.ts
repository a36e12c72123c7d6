import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';
import { describeIssues } from '@app/contracts';

/** Parses a JSON body with a contract's zod schema: a bad or unknown field is a 400 naming it. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new BadRequestException(describeIssues(r.error.issues));
  return r.data;
}
