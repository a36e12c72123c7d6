import { Module } from '@nestjs/common';
import { SecretBox } from '../secrets/secret-box';
import { AccountsRepository } from './accounts.repository';
import { AccountsDeps, AccountsService } from './accounts.service';
import { AppCredentials } from './app-credentials';
import { BusinessNumbersController, MetaAppsController, WabasController } from './accounts.controller';
import { GraphProbe } from './graph-probe';

/** Business numbers, WABAs and Meta apps as managed resources (issue 13, part 1). */
@Module({
  controllers: [MetaAppsController, WabasController, BusinessNumbersController],
  providers: [SecretBox, AccountsRepository, AccountsService, AccountsDeps, AppCredentials, GraphProbe],
  exports: [SecretBox, AppCredentials],
})
export class WhatsAppAccountsModule {}
