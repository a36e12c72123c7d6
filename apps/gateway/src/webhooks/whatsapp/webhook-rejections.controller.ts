import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ErrorResponse } from '../../auth/auth.responses';
import { AuthGuard } from '../../auth/auth.guard';
import { RequireScopes } from '../../auth/principal';
import { WebhookDeadLetter } from './webhook-dead-letter';

export class RejectionsQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  limit?: number;
}

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
