import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiProperty, ApiSecurity, ApiTags, ApiUnauthorizedResponse, PickType } from '@nestjs/swagger';
import { ErrorResponse } from '../../auth/auth.responses';
import { AuthGuard } from '../../auth/auth.guard';
import { RequireScopes } from '../../auth/principal';
import { PageQuery } from '../../http/page-query';
import { WebhookDeadLetter } from './webhook-dead-letter';

/** `limit` as on every list route (1–200, default 50); not cursor-paged: the newest are what an operator reads. */
export class RejectionsQuery extends PickType(PageQuery, ['limit'] as const) {}

export class WebhookRejectionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'Which configured app secret signed it' }) appIndex!: number | null;
  @ApiProperty({ description: 'The status answered (4xx)' }) httpStatus!: number;
  @ApiProperty() reason!: string;
  @ApiProperty({ description: 'The body as received, cut at 64 KiB (NUL shown as U+FFFD)' }) body!: string;
  @ApiProperty({ description: 'Bytes received' }) byteLength!: number;
  @ApiProperty() bodyTruncated!: boolean;
}

export class WebhookRejectionListResponse {
  @ApiProperty({ type: [WebhookRejectionResponse] }) items!: WebhookRejectionResponse[];
}

/** Admins: the dead letters of signed webhooks refused whole (see WebhookDeadLetter), newest first. */
@ApiTags('system')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/system/webhook-rejections')
@UseGuards(AuthGuard)
@RequireScopes('admin')
export class WebhookRejectionsController {
  constructor(private readonly deadLetters: WebhookDeadLetter) {}

  @Get()
  @ApiOkResponse({ type: WebhookRejectionListResponse })
  list(@Query() q: RejectionsQuery) {
    return this.deadLetters.newest(q.limit ?? 50);
  }
}
