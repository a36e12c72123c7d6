import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthGuard } from '../auth/auth.guard';
import { ErrorResponse } from '../auth/auth.responses';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { ContactsQuery, ExportQuery, MergeContactDto, UpdateContactDto } from './contacts.dto';
import { ContactDetailResponse, ContactPageResponse, ContactResponse, EraseResponse, MergeResponse } from './contacts.responses';
import { ContactsService } from './contacts.service';

const Id = new ParseUUIDPipe({ version: undefined });

/**
 * Contacts (people who wrote to any business number). Agents and viewers read the contacts of conversations
 * they may see; managers and admins edit and block; only admins merge and erase. API keys need
 * `contacts:read` / `contacts:write` (merge and erase also `admin`).
 */
@ApiTags('contacts')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@ApiNotFoundResponse({ type: ErrorResponse, description: 'Unknown, or none of its conversations is visible to the caller' })
@Controller('api/v1/contacts')
@UseGuards(AuthGuard)
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get()
  @ApiOkResponse({ type: ContactPageResponse })
  @RequireScopes('contacts:read')
  list(@CurrentPrincipal() me: Principal, @Query() q: ContactsQuery) {
    return this.contacts.list(me, q);
  }

  /** Streamed; the same filters as the list (cursor and limit ignored: every matching contact). */
  @Get('export')
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'text/csv (RFC 4180, CRLF; cells starting with = + - @ are prefixed with \')', schema: { type: 'string' } })
  @RequireScopes('contacts:read')
  async export(@CurrentPrincipal() me: Principal, @Query() q: ExportQuery, @Res() res: Response): Promise<void> {
    const rows = this.contacts.exportCsv(me, { q: q.q, label: q.label, blocked: q.blocked });
    // the header and the first page before the status line: a dependency down is still a clean 503
    const head = [(await rows.next()).value ?? '', (await rows.next()).value ?? ''].join('');
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="contacts.csv"');
    res.setHeader('Cache-Control', 'no-store');
    try {
      res.write(head);
      for await (const chunk of rows) if (chunk && !res.write(chunk)) await new Promise((r) => res.once('drain', r));
      res.end();
    } catch (err) {
      res.destroy(err as Error); // headers are gone: a cut connection says the file is incomplete
    }
  }

  @Get(':id')
  @ApiOkResponse({ type: ContactDetailResponse })
  @RequireScopes('contacts:read')
  get(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.contacts.get(me, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: ContactResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'Stale version; details.current is the contact now' })
  @RequireScopes('contacts:write')
  update(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: UpdateContactDto) {
    return this.contacts.update(me, id, dto);
  }

  @Post(':id/block')
  @HttpCode(200)
  @ApiOkResponse({ type: ContactResponse, description: 'Their messages are still stored but no longer reopen or route; sends to them are refused (409)' })
  @RequireScopes('contacts:write')
  block(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.contacts.setBlocked(me, id, true);
  }

  @Post(':id/unblock')
  @HttpCode(200)
  @ApiOkResponse({ type: ContactResponse })
  @RequireScopes('contacts:write')
  unblock(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.contacts.setBlocked(me, id, false);
  }

  @Post(':id/merge')
  @HttpCode(200)
  @ApiOkResponse({ type: MergeResponse, description: 'Idempotent: repeating a done merge answers alreadyMerged: true' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'One of them was merged elsewhere or erased' })
  @RequireScopes('contacts:write', 'admin')
  merge(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: MergeContactDto) {
    return this.contacts.merge(me, id, dto.mergedContactId);
  }

  @Post(':id/erasure')
  @HttpCode(200)
  @ApiOkResponse({ type: EraseResponse, description: 'GDPR erasure: content and files removed, profile cleared; the audit trail keeps who, when and the counts' })
  @RequireScopes('contacts:write', 'admin')
  erase(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.contacts.erase(me, id);
  }
}
