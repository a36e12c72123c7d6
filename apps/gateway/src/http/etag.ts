import { applyDecorators, BadRequestException, CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors, type Type } from '@nestjs/common';
import { ApiHeader, ApiOkResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { map, type Observable } from 'rxjs';

/** `"12"`: the ETag of a conversation is its work-state version (strong: If-Match compares it exactly). */
export const etagOf = (version: number) => `"${version}"`;

function versionFromIfMatch(header: string): number {
  const m = /^\s*"(\d{1,9})"\s*$/.exec(header);
  if (!m || Number(m[1]) < 1)
    throw new BadRequestException('If-Match must be one ETag from this API, like "12" (the conversation version; weak ETags and * are not accepted)');
  return Number(m[1]);
}

/**
 * ETag / If-Match for a conversation's version. Answers that carry a `version` get `ETag: "<version>"`. On a
 * change, `If-Match: "<version>"` may replace the body's `version` (both given and different: 400). A stale
 * version is 409 with `details.current`, the same whichever way it was sent (routing decides, as before).
 */
@Injectable()
export class ConversationETagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const ifMatch = req.header('if-match');
    if (ifMatch !== undefined && req.method !== 'GET') {
      const v = versionFromIfMatch(ifMatch);
      const body = (req.body ?? {}) as { version?: unknown };
      if (body.version !== undefined && body.version !== v) throw new BadRequestException(`If-Match ("${v}") and body version (${String(body.version)}) disagree; send one`);
      req.body = { ...body, version: v };
    }
    return next.handle().pipe(
      map((out) => {
        const v = (out as { version?: unknown } | null)?.version;
        if (typeof v === 'number') http.getResponse<Response>().setHeader('ETag', etagOf(v));
        return out;
      }),
    );
  }
}

/** A change route that takes the conversation version: `If-Match` documented, ETag on the answer. */
export const IfMatchVersion = () =>
  applyDecorators(
    UseInterceptors(ConversationETagInterceptor),
    ApiHeader({ name: 'If-Match', required: false, description: 'The ETag of the conversation ("<version>"), instead of the body version' }),
  );

/** A read route whose answer (of `type`) has the conversation version: `ETag` set from it. */
export const ETagFromVersion = (type: Type<unknown>) =>
  applyDecorators(
    UseInterceptors(ConversationETagInterceptor),
    ApiOkResponse({ type, headers: { ETag: { description: '"<version>" of the conversation (use it as If-Match)', schema: { type: 'string' } } } }),
  );
