import { Module } from '@nestjs/common';
import { AuditController } from '../audit/audit.controller';
import { InboxController, NumbersController } from './inbox.controller';
import { InboxService } from './inbox.service';
import { MediaController } from './media.controller';
import { MediaService } from './media.service';

@Module({ controllers: [InboxController, NumbersController, AuditController, MediaController], providers: [InboxService, MediaService] })
export class InboxModule {}
