import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';

/** What every automation controller shares: signed-in people or API keys, and the error answers in OpenAPI. */
export const AutomationApi = () =>
  applyDecorators(
    ApiTags('automation'),
    ApiBearerAuth('bearer'),
    ApiSecurity('apiKey'),
    ApiUnauthorizedResponse({ type: ErrorResponse }),
    ApiForbiddenResponse({ type: ErrorResponse }),
    ApiBadRequestResponse({ type: ErrorResponse }),
    UseGuards(AuthGuard),
  );
