import { Module } from '@nestjs/common';
import { InboxModule } from '../inbox/inbox.module';
import { ContactsController } from './contacts.controller';
import { ContactsService } from './contacts.service';
import { ReceiptErasureRepository } from './receipt-erasure.repository';

@Module({
  imports: [InboxModule],
  controllers: [ContactsController],
  providers: [ContactsService, ReceiptErasureRepository],
  exports: [ContactsService],
})
export class ContactsModule {}
