import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiSecurity, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponse, MeResponse, TokenPairResponse } from './auth.responses';
import { ArgumentsHost, Body, Catch, Controller, Get, HttpCode, Post, Req, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AllExceptionsFilter } from '@app/platform';
import { AuthGuard } from './auth.guard';
import { LoginDto, RefreshDto } from './auth.dto';
import { AuthService, LoginThrottledError } from './auth.service';
import { CurrentPrincipal, type Principal } from './principal';

/** The usual error body, plus `Retry-After` on a throttled login. */
@Catch()
class RetryAfterFilter extends AllExceptionsFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof LoginThrottledError)
      host.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(exception.retryAfterS));
    super.catch(exception, host);
  }
}

@ApiTags('auth')
@Controller('api/v1')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('auth/login')
  @ApiOkResponse({ type: TokenPairResponse })
  @ApiUnauthorizedResponse({ type: ErrorResponse })
  @ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'Too many failed logins; see Retry-After' })
  @HttpCode(200)
  @UseFilters(RetryAfterFilter)
  login(@Body() dto: LoginDto, @Req() req: Request) {
    return this.auth.login(dto.email, dto.password, req.ip ?? 'unknown');
  }

  @Post('auth/refresh')
  @ApiOkResponse({ type: TokenPairResponse })
  @ApiUnauthorizedResponse({ type: ErrorResponse })
  @HttpCode(200)
  refresh(@Body() dto: RefreshDto) {
    return this.auth.refresh(dto.refreshToken);
  }

  /** Revokes this session: its access and refresh tokens stop working at once. */
  @Post('auth/logout')
  @ApiBearerAuth('bearer')
  @ApiNoContentResponse({ description: 'This session is revoked' })
  @HttpCode(204)
  @UseGuards(AuthGuard)
  async logout(@CurrentPrincipal() me: Principal): Promise<void> {
    await this.auth.logout(me);
  }

  @Get('me')
  @ApiBearerAuth('bearer')
  @ApiSecurity('apiKey')
  @ApiOkResponse({ type: MeResponse })
  @UseGuards(AuthGuard)
  me(@CurrentPrincipal() me: Principal) {
    return { kind: me.kind, id: me.id, name: me.name, email: me.email, role: me.role, teamIds: me.teamIds, scopes: me.scopes };
  }
}
