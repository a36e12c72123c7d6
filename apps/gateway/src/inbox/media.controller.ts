import { Controller, Get, Param, ParseUUIDPipe, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { MediaService } from './media.service';

/** The media link of a message (MessageView.media.url): the stored file, for callers who may see the conversation. */
@ApiTags('conversations')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@Controller('api/v1/media')
@UseGuards(AuthGuard)
export class MediaController {
  constructor(private readonly media: MediaService) {}

  @Get(':messageId')
  @ApiOkResponse({ description: 'The file, with its MIME type; 404 when not stored or not visible to the caller' })
  @RequireScopes('conversations:read')
  get(@CurrentPrincipal() me: Principal, @Param('messageId', new ParseUUIDPipe()) messageId: string, @Res() res: Response) {
    return this.media.stream(me, messageId, res);
  }
}
