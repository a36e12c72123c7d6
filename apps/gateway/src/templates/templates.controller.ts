import { Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuthGuard } from '../auth/auth.guard';
import { ErrorResponse } from '../auth/auth.responses';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { TemplateListQuery, TemplateListResponse, TemplateSyncResponse } from './templates.dto';
import { TemplatesService } from './templates.service';

/**
 * WhatsApp message templates as synced from the Graph API (every status). Read-only here: templates are created
 * and edited in WhatsApp Manager; a `message_template_status_update` webhook or a sync brings the changes in.
 */
@ApiTags('templates')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Not a manager or admin (sync: admins only)' })
@ApiBadRequestResponse({ type: ErrorResponse })
@ApiServiceUnavailableResponse({ type: ErrorResponse, description: 'notifications (or, for a sync, the Graph API) is unavailable' })
@Controller('api/v1/templates')
@UseGuards(AuthGuard)
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  /** Admins: every number; managers: the numbers of their teams. `status` filters (e.g. REJECTED). */
  @Get()
  @ApiOkResponse({ type: TemplateListResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'The number is not registered, or not one of the manager’s teams’' })
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal, @Query() q: TemplateListQuery) {
    return this.templates.list(me, q);
  }

  /**
   * Fetch every configured WhatsApp Business Account's templates from the Graph API now; answers the count stored and
   * the accounts that failed. 503 when none could be synced (Graph API down or refusing), saying why.
   */
  @Post('sync')
  @HttpCode(200)
  @ApiOkResponse({ type: TemplateSyncResponse })
  @RequireScopes('admin')
  sync() {
    return this.templates.sync();
  }
}
