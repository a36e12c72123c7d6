import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, UseGuards } from '@nestjs/common';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { AuthGuard } from '../auth/auth.guard';
import { RequireScopes } from '../auth/principal';
import { TeamsService } from './teams.service';

export class TeamDto {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;
}

@Controller('api/v1/teams')
@UseGuards(AuthGuard)
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @RequireScopes('admin')
  create(@Body() dto: TeamDto) {
    return this.teams.create(dto.name);
  }

  @Get()
  @RequireScopes('conversations:read')
  list() {
    return this.teams.list().then((items) => ({ items }));
  }

  @Get(':id')
  @RequireScopes('conversations:read')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.teams.get(id);
  }

  @Patch(':id')
  @RequireScopes('admin')
  rename(@Param('id', ParseUUIDPipe) id: string, @Body() dto: TeamDto) {
    return this.teams.rename(id, dto.name);
  }
}
