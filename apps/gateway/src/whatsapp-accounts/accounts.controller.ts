import { applyDecorators, BadRequestException, Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, UseGuards, type PipeTransform } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiResponse,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import {
  ConnectionReportResponse,
  CreateMetaAppDto,
  CreateNumberDto,
  CreateWabaDto,
  MetaAppListResponse,
  MetaAppResponse,
  NumberListQuery,
  NumberListResponse,
  NumberResponse,
  ReencryptResponse,
  UpdateMetaAppDto,
  UpdateNumberDto,
  UpdateWabaDto,
  WabaListResponse,
  WabaResponse,
} from './accounts.dto';
import { AccountsService } from './accounts.service';

/** Admin-only registry routes: authenticated, scope `admin`, the usual error answers documented. */
const RegistryApi = () =>
  applyDecorators(
    ApiTags('whatsapp-registry'),
    ApiBearerAuth('bearer'),
    ApiSecurity('apiKey'),
    ApiUnauthorizedResponse({ type: ErrorResponse }),
    ApiForbiddenResponse({ type: ErrorResponse }),
    ApiBadRequestResponse({ type: ErrorResponse }),
    UseGuards(AuthGuard),
    RequireScopes('admin'),
  );

/** A Meta id in the path (digits only); anything else is 400 naming the parameter. */
const Digits = (name: string): PipeTransform<string, string> => ({
  transform(v: string) {
    if (!/^\d{1,32}$/.test(v)) throw new BadRequestException(`${name} must be Meta's numeric id`);
    return v;
  },
});

/** Meta apps: the credentials (app secret, verify token, access token) one or more WABAs use. Admins only. */
@RegistryApi()
@Controller('api/v1/meta-apps')
export class MetaAppsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @ApiCreatedResponse({ type: MetaAppResponse, description: 'Secrets are shown only as { set, last4 }' })
  create(@Body() dto: CreateMetaAppDto, @CurrentPrincipal() me: Principal) {
    return this.accounts.createApp(dto, me);
  }

  @Get()
  @ApiOkResponse({ type: MetaAppListResponse })
  list() {
    return this.accounts.listApps();
  }

  @Get(':id')
  @ApiOkResponse({ type: MetaAppResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.accounts.getApp(id);
  }

  /** Change the name, replace a secret (write-only) or disable the app. */
  @Patch(':id')
  @ApiOkResponse({ type: MetaAppResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  update(@Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateMetaAppDto, @CurrentPrincipal() me: Principal) {
    return this.accounts.updateApp(id, dto, me);
  }

  /** After a key rotation (new SECRETS_KEY, old one in SECRETS_OLD_KEYS): re-seal every stored secret with the new key. */
  @Post('re-encrypt')
  @HttpCode(200)
  @ApiOkResponse({ type: ReencryptResponse })
  reencrypt() {
    return this.accounts.reencrypt();
  }
}

@RegistryApi()
@Controller('api/v1/whatsapp-accounts')
export class WabasController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @ApiCreatedResponse({ type: WabaResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'Already registered' })
  create(@Body() dto: CreateWabaDto, @CurrentPrincipal() me: Principal) {
    return this.accounts.createWaba(dto, me);
  }

  @Get()
  @ApiOkResponse({ type: WabaListResponse })
  list() {
    return this.accounts.listWabas();
  }

  @Get(':wabaId')
  @ApiOkResponse({ type: WabaResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  get(@Param('wabaId', Digits('wabaId')) wabaId: string) {
    return this.accounts.getWaba(wabaId);
  }

  @Patch(':wabaId')
  @ApiOkResponse({ type: WabaResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  update(@Param('wabaId', Digits('wabaId')) wabaId: string, @Body() dto: UpdateWabaDto, @CurrentPrincipal() me: Principal) {
    return this.accounts.updateWaba(wabaId, dto, me);
  }
}

@RegistryApi()
@Controller('api/v1/numbers')
export class BusinessNumbersController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @ApiCreatedResponse({ type: NumberResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'Already registered' })
  create(@Body() dto: CreateNumberDto, @CurrentPrincipal() me: Principal) {
    return this.accounts.createNumber(dto, me);
  }

  @Get()
  @ApiOkResponse({ type: NumberListResponse })
  list(@Query() q: NumberListQuery) {
    return this.accounts.listNumbers(q);
  }

  @Get(':phoneNumberId')
  @ApiOkResponse({ type: NumberResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  get(@Param('phoneNumberId', Digits('phoneNumberId')) phoneNumberId: string) {
    return this.accounts.getNumber(phoneNumberId);
  }

  @Patch(':phoneNumberId')
  @ApiOkResponse({ type: NumberResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  update(@Param('phoneNumberId', Digits('phoneNumberId')) phoneNumberId: string, @Body() dto: UpdateNumberDto, @CurrentPrincipal() me: Principal) {
    return this.accounts.updateNumber(phoneNumberId, dto, me);
  }

  /**
   * Test connection: reads the number from the Graph API with its app's access token. 422 when Meta refuses
   * (wrong token, unknown number: Meta's error in words, its code in details); 424 when the Graph API is unreachable.
   */
  @Post(':phoneNumberId/test')
  @HttpCode(200)
  @ApiOkResponse({ type: ConnectionReportResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiResponse({ status: 422, type: ErrorResponse, description: "Meta refused: Meta's error in words; details.code is Meta's code" })
  @ApiResponse({ status: 424, type: ErrorResponse, description: 'The Graph API could not be reached' })
  test(@Param('phoneNumberId', Digits('phoneNumberId')) phoneNumberId: string) {
    return this.accounts.testConnection(phoneNumberId);
  }
}
