import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiOkResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponse, UserListResponse, UserResponse } from '../auth/auth.responses';
import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { CreateUserDto, ListUsersQuery, UpdateUserDto } from './users.dto';
import { UsersService } from './users.service';

/** Users: everyone signed in may list them (to hand off, to mention); only admins change them. */
@ApiTags('users')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/users')
@UseGuards(AuthGuard)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiCreatedResponse({ type: UserResponse })
  @RequireScopes('admin')
  create(@Body() dto: CreateUserDto, @CurrentPrincipal() me: Principal) {
    return this.users.create(dto, me);
  }

  @Get()
  @ApiOkResponse({ type: UserListResponse })
  @RequireScopes('conversations:read')
  list(@Query() q: ListUsersQuery) {
    return this.users.list(q).then((items) => ({ items }));
  }

  @Get(':id')
  @ApiOkResponse({ type: UserResponse })
  @RequireScopes('conversations:read')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.users.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserResponse })
  @RequireScopes('admin')
  update(@Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateUserDto, @CurrentPrincipal() me: Principal) {
    return this.users.update(id, dto, me);
  }
}
