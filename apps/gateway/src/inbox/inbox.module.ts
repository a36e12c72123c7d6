import { Module } from '@nestjs/common';
import { AuditController } from '../audit/audit.controller';
import { InboxController, NumbersController } from './inbox.controller';
import { InboxService } from './inbox.service';

@Module({ controllers: [InboxController, NumbersController, AuditController], providers: [InboxService] })
export class InboxModule {}
