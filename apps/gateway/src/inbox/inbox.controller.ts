import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponse } from '../auth/auth.responses';
import {
  ConversationPageResponse,
  ConversationResponse,
  MessagePageResponse,
  NoteResponse,
  NumberTeamResponse,
  AttachmentResponse,
  ReplyResponse,
  TimelineResponse,
  WorkStateResponse,
} from './inbox.responses';
import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { attachmentStorage, UploadAdmission } from './upload-admission';
import { MEDIA_LIMITS } from '@app/contracts';
import { AttachmentsService, type AttachmentFields, type UploadedFilePart } from './attachments.service';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import {
  AssignDto,
  ClaimDto,
  HandoffDto,
  LabelsDto,
  ListQuery,
  MarkReadDto,
  MessagesQuery,
  NoteDto,
  NumberTeamDto,
  PriorityDto,
  ReplyDto,
  StatusDto,
  TakeoverDto,
  TimelineQuery,
} from './inbox.dto';
import { InboxService } from './inbox.service';
import { ETagFromVersion, IfMatchVersion } from '../http/etag';

const Id = new ParseUUIDPipe({ version: undefined });

/** The team inbox: who works on which conversation, and replies. Permissions are enforced by routing. */
@ApiTags('conversations')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@ApiNotFoundResponse({ type: ErrorResponse, description: 'Unknown, or not visible to the caller' })
@ApiConflictResponse({ type: ErrorResponse, description: 'Stale version or owned by someone else; details.current is the state now' })
@Controller('api/v1/conversations')
@UseGuards(AuthGuard)
export class InboxController {
  constructor(
    private readonly inbox: InboxService,
    private readonly attachments: AttachmentsService,
  ) {}

  @Get()
  @ApiOkResponse({ type: ConversationPageResponse })
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal, @Query() q: ListQuery) {
    return this.inbox.list(me, q);
  }

  @Get(':id')
  @ETagFromVersion(ConversationResponse)
  @RequireScopes('conversations:read')
  get(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.inbox.get(me, id);
  }

  @Get(':id/timeline')
  @ApiOkResponse({ type: TimelineResponse })
  @RequireScopes('conversations:read')
  timeline(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Query() q: TimelineQuery) {
    return this.inbox.timeline(me, id, q.limit ?? 500);
  }

  @Get(':id/messages')
  @ApiOkResponse({ type: MessagePageResponse, description: 'A page of messages, oldest first (or newest first with order=newest)' })
  @RequireScopes('conversations:read')
  messages(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Query() q: MessagesQuery) {
    return this.inbox.messages(me, id, q.cursor, q.limit ?? 100, q.order);
  }

  @Post(':id/claim')
  @IfMatchVersion()
  @ApiOkResponse({ type: WorkStateResponse })
  @HttpCode(200)
  @RequireScopes('conversations:write')
  claim(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: ClaimDto) {
    return this.inbox.claim(me, id, dto.version);
  }

  @Post(':id/assign')
  @IfMatchVersion()
  @ApiOkResponse({ type: WorkStateResponse })
  @HttpCode(200)
  @RequireScopes('conversations:write')
  assign(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: AssignDto) {
    return this.inbox.assign(me, id, dto);
  }

  @Post(':id/handoff')
  @IfMatchVersion()
  @ApiOkResponse({ type: WorkStateResponse })
  @HttpCode(200)
  @RequireScopes('conversations:write')
  handoff(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: HandoffDto) {
    return this.inbox.handoff(me, id, dto);
  }

  @Post(':id/status')
  @IfMatchVersion()
  @ApiOkResponse({ type: WorkStateResponse })
  @HttpCode(200)
  @RequireScopes('conversations:write')
  status(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: StatusDto) {
    return this.inbox.setStatus(me, id, dto);
  }

  @Post(':id/takeover')
  @IfMatchVersion()
  @ApiOkResponse({ type: WorkStateResponse })
  @HttpCode(200)
  @RequireScopes('conversations:write')
  takeover(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: TakeoverDto) {
    return this.inbox.takeover(me, id, dto.version);
  }

  @Post(':id/labels')
  @IfMatchVersion()
  @ApiOkResponse({ type: WorkStateResponse })
  @HttpCode(200)
  @RequireScopes('conversations:write')
  labels(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: LabelsDto) {
    return this.inbox.setLabels(me, id, dto.version, dto.labels);
  }

  @Post(':id/priority')
  @IfMatchVersion()
  @ApiOkResponse({ type: WorkStateResponse })
  @HttpCode(200)
  @RequireScopes('conversations:write')
  priority(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: PriorityDto) {
    return this.inbox.setPriority(me, id, dto.version, dto.priority);
  }

  @Post(':id/notes')
  @IfMatchVersion()
  @ApiCreatedResponse({ type: NoteResponse })
  @RequireScopes('conversations:write')
  note(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: NoteDto) {
    return this.inbox.addNote(me, id, dto);
  }

  /** Read receipt for the customer's latest message (`typing: true` adds the typing indicator); owner only. */
  @Post(':id/read')
  @HttpCode(200)
  @RequireScopes('messages:send')
  read(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: MarkReadDto) {
    return this.inbox.markRead(me, id, dto.typing ?? false);
  }

  /** The approved templates this conversation's business number can send (the only replies allowed outside the 24 h window). */
  @Get(':id/templates')
  @ApiOkResponse({ description: '{items: [{name, language, category, body, bodyParameterCount}]}' })
  @RequireScopes('conversations:read')
  templates(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.inbox.templates(me, id);
  }

  /** Reply: free text (inside the 24 h window) or an approved template. Requires `Idempotency-Key`; only the owner may send. */
  @Post(':id/messages')
  @IfMatchVersion()
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'Retries with the same key return the first result' })
  @ApiAcceptedResponse({ type: ReplyResponse })
  @HttpCode(202)
  @RequireScopes('messages:send')
  reply(
    @CurrentPrincipal() me: Principal,
    @Param('id', Id) id: string,
    @Headers('idempotency-key') key: string | undefined,
    @Body() dto: ReplyDto,
  ) {
    return this.inbox.reply(me, id, key, dto);
  }

  /**
   * Send a file (multipart/form-data): an image (jpeg, png ≤ 5 MB), document (pdf, txt, Office ≤ 100 MB), audio
   * (aac, amr, mp3, m4a, ogg ≤ 16 MB) or video (mp4, 3gpp ≤ 16 MB), with an optional caption (not for audio).
   * Wrong type → 400, too big → 413 (as soon as the declared length or the bytes read exceed the type's limit; the
   * file is not buffered first). Over ATTACHMENT_UPLOADS_MAX_CONCURRENT uploads on this replica → 503 + Retry-After. Requires `Idempotency-Key`; only the owner may send, as for a reply.
   */
  @Post(':id/attachments')
  @HttpCode(202)
  @UseInterceptors(UploadAdmission, FileInterceptor('file', { storage: attachmentStorage, limits: { fileSize: MEDIA_LIMITS.document.maxBytes, files: 1, fields: 4 } }))
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary' },
        caption: { type: 'string', maxLength: 1024 },
        version: { type: 'integer', minimum: 1, description: 'Checked when the send claims an unassigned conversation' },
      },
    },
  })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'Retries with the same key return the first result' })
  @ApiAcceptedResponse({ type: AttachmentResponse })
  @ApiPayloadTooLargeResponse({ type: ErrorResponse, description: 'Over WhatsApp’s limit for the file’s type' })
  @ApiServiceUnavailableResponse({ type: ErrorResponse, description: 'Too many uploads in progress on this replica; see Retry-After' })
  @RequireScopes('messages:send')
  attach(
    @CurrentPrincipal() me: Principal,
    @Param('id', Id) id: string,
    @Headers('idempotency-key') key: string | undefined,
    @UploadedFile() file: UploadedFilePart | undefined,
    @Body() fields: AttachmentFields,
  ) {
    return this.attachments.send(me, id, key, file, fields ?? {});
  }
}

/** Admin: which team's queue new conversations on a business number land in. */
@ApiTags('numbers')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/numbers')
@UseGuards(AuthGuard)
export class NumbersController {
  constructor(private readonly inbox: InboxService) {}

  @Put(':phoneNumberId/team')
  @ApiOkResponse({ type: NumberTeamResponse })
  @RequireScopes('admin')
  setTeam(@CurrentPrincipal() me: Principal, @Param('phoneNumberId') phoneNumberId: string, @Body() dto: NumberTeamDto) {
    return this.inbox.setNumberTeam(me, phoneNumberId, dto.teamId);
  }
}
