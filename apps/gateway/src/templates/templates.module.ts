import { Module } from '@nestjs/common';
import { AccountsRepository } from '../whatsapp-accounts/accounts.repository';
import { TemplatesController } from './templates.controller';
import { TemplatesService } from './templates.service';

/** The templates admin screen's API (issue 9 item 6). */
@Module({
  controllers: [TemplatesController],
  providers: [TemplatesService, AccountsRepository],
})
export class TemplatesModule {}
