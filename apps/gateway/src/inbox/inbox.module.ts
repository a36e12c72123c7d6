import { Module } from '@nestjs/common';
import { AuditController } from '../audit/audit.controller';
import { AttachmentsService } from './attachments.service';
import { InboxController, NumbersController } from './inbox.controller';
import { InboxService } from './inbox.service';
import { MediaController } from './media.controller';
import { MediaService } from './media.service';
import { LabelsController } from '../labels/labels.controller';
import { LabelsRepository } from '../labels/labels.repository';
import { LabelsService } from '../labels/labels.service';
import { SlaApiModule } from '../sla/sla.module';

@Module({
  imports: [SlaApiModule],
  controllers: [InboxController, NumbersController, AuditController, MediaController, LabelsController],
  providers: [InboxService, AttachmentsService, MediaService, LabelsService, LabelsRepository],
  exports: [LabelsService],
})
export class InboxModule {}
