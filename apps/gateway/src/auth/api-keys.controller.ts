import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiOkResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiKeyListResponse, ApiKeyResponse, CreatedApiKeyResponse, ErrorResponse } from './auth.responses';
import { ApiProperty } from '@nestjs/swagger';
import { BadRequestException, Body, Controller, Delete, Get, Injectable, NotFoundException, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, MaxLength, MinLength } from 'class-validator';
import { DataSource } from 'typeorm';
import { ApiKeysRepository } from './api-keys.repository';
import { DirectoryAudit } from './directory-audit';
import { AuthGuard } from './auth.guard';
import { BOT_SCOPES, CurrentPrincipal, RequireScopes, SCOPES, type Principal, type Scope } from './principal';
import { newToken, tokenHash } from './tokens';

export class CreateApiKeyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @ApiProperty({ maxLength: 100 })
  name!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @IsIn(SCOPES, { each: true })
  @ApiProperty({ isArray: true, enum: SCOPES })
  scopes!: Scope[];
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly ds: DataSource,
    private readonly keys: ApiKeysRepository,
    private readonly audit: DirectoryAudit,
  ) {}

  /** The key itself is returned once, here; only its SHA-256 is stored. */
  async create(name: string, scopes: Scope[], by: Principal) {
    if (scopes.includes('bot')) {
      const extra = scopes.filter((s) => !BOT_SCOPES.includes(s));
      if (extra.length)
        throw new BadRequestException(`scopes: a bot key (scope bot) may only add ${BOT_SCOPES.filter((s) => s !== 'bot').join(', ')}; not ${extra.join(', ')} (bots act only on the conversations they hold)`);
    }
    const key = newToken('sbk');
    const view = await this.ds.transaction(async (em) => {
      const v = await this.keys.insert(em, {
        name,
        prefix: key.slice(0, 10),
        hash: tokenHash(key),
        scopes: [...new Set(scopes)],
        createdBy: by.kind === 'user' ? by.id : null,
      });
      await this.audit.record(em, by, { action: 'api-key.created', entityType: 'api_key', entityId: v.id, before: null, after: { name: v.name, prefix: v.prefix, scopes: v.scopes } });
      return v;
    });
    return { ...view, key };
  }

  list() {
    return this.keys.list(this.ds.manager).then((items) => ({ items }));
  }

  async revoke(id: string, by: Principal) {
    return this.ds.transaction(async (em) => {
      const before = await this.keys.findById(em, id);
      if (!before) throw new NotFoundException(`API key ${id} not found`);
      const k = (await this.keys.revoke(em, id))!;
      if (before.revokedAt) return k; // already revoked: nothing changes
      await this.audit.record(em, by, { action: 'api-key.revoked', entityType: 'api_key', entityId: id, before: { name: k.name, revoked: false }, after: { name: k.name, revoked: true } });
      return k;
    });
  }
}

@ApiTags('api-keys')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/api-keys')
@UseGuards(AuthGuard)
@RequireScopes('admin')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  create(@Body() dto: CreateApiKeyDto, @CurrentPrincipal() me: Principal) {
    return this.keys.create(dto.name, dto.scopes, me);
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyListResponse })
  list() {
    return this.keys.list();
  }

  /** Revokes the key (kept, with its last-used time, for the record). */
  @Delete(':id')
  @ApiOkResponse({ type: ApiKeyResponse })
  revoke(@Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() me: Principal) {
    return this.keys.revoke(id, me);
  }
}
