import { BadRequestException, Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsUUID } from 'class-validator';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { PageQuery } from '../http/page-query';
import { NoticesService } from './notices.service';

export class NoticeListQuery extends PageQuery {
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  @ApiPropertyOptional({ description: 'Only unread notices' })
  unread?: boolean;
}

export class MarkNoticesReadDto {
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsUUID('all', { each: true })
  @ApiPropertyOptional({ type: [String], description: 'Notices to mark read' })
  ids?: string[];

  @IsOptional()
  @IsBoolean()
  @ApiPropertyOptional({ description: 'Mark every notice read' })
  all?: boolean;
}

/** The caller's own notices (unread first, newest first) and marking them read. */
@ApiTags('notifications')
@ApiBearerAuth()
@Controller('api/v1/notifications')
@UseGuards(AuthGuard)
export class NoticesController {
  constructor(private readonly notices: NoticesService) {}

  @Get()
  @ApiOkResponse({ description: '{ items, nextCursor, unreadCount }' })
  @RequireScopes('conversations:read')
  async list(@Query() q: NoticeListQuery, @CurrentPrincipal() me: Principal) {
    const page = await this.notices.list(me.id, { unreadOnly: q.unread === true, cursor: q.cursor ?? null, limit: q.limit ?? 50 });
    if (!page) throw new BadRequestException('cursor: not a cursor from this list');
    return page;
  }

  @Post('read')
  @HttpCode(200)
  @ApiOkResponse({ description: '{ updated }' })
  @RequireScopes('conversations:read')
  async read(@Body() dto: MarkNoticesReadDto, @CurrentPrincipal() me: Principal) {
    if (!dto.all && !dto.ids?.length) throw new BadRequestException('ids (non-empty) or all: true is required');
    return { updated: await this.notices.markRead(me.id, dto.all ? 'all' : dto.ids!) };
  }
}
