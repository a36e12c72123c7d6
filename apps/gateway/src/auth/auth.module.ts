import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TeamsController } from '../teams/teams.controller';
import { TeamsRepository } from '../teams/teams.repository';
import { TeamsService } from '../teams/teams.service';
import { RolesController } from '../users/roles.controller';
import { UsersController } from '../users/users.controller';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { ApiKeysController, ApiKeysService } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import { DirectoryAudit } from './directory-audit';
import { SeedService } from './seed.service';
import { TokenStrategy } from './token.strategy';

/**
 * People and authentication. Global so any module can put `@UseGuards(AuthGuard)` on its routes
 * (and inject UsersService to resolve users).
 */
@Global()
@Module({
  imports: [PassportModule],
  controllers: [AuthController, UsersController, RolesController, TeamsController, ApiKeysController],
  providers: [
    AuthRepository,
    AuthService,
    TokenStrategy,
    AuthGuard,
    UsersRepository,
    UsersService,
    TeamsRepository,
    TeamsService,
    ApiKeysRepository,
    ApiKeysService,
    SeedService,
    DirectoryAudit,
  ],
  exports: [AuthGuard, AuthService, UsersService, UsersRepository, TeamsService, DirectoryAudit, PassportModule],
})
export class AuthModule {}
