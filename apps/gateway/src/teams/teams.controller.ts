import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiOkResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponse, TeamListResponse, TeamResponse } from '../auth/auth.responses';
import { ApiProperty } from '@nestjs/swagger';
import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, UseGuards } from '@nestjs/common';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { TeamsService } from './teams.service';

export class TeamDto {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @ApiProperty({ maxLength: 100 })
  name!: string;
}

@ApiTags('teams')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/teams')
@UseGuards(AuthGuard)
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @ApiCreatedResponse({ type: TeamResponse })
  @RequireScopes('admin')
  create(@Body() dto: TeamDto, @CurrentPrincipal() me: Principal) {
    return this.teams.create(dto.name, me);
  }

  @Get()
  @ApiOkResponse({ type: TeamListResponse })
  @RequireScopes('conversations:read')
  list() {
    return this.teams.list().then((items) => ({ items }));
  }

  @Get(':id')
  @ApiOkResponse({ type: TeamResponse })
  @RequireScopes('conversations:read')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.teams.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: TeamResponse })
  @RequireScopes('admin')
  rename(@Param('id', ParseUUIDPipe) id: string, @Body() dto: TeamDto, @CurrentPrincipal() me: Principal) {
    return this.teams.rename(id, dto.name, me);
  }
}
