import { Module } from '@nestjs/common';
import { AutoRepliesController } from './auto-replies.controller';
import { CannedController } from './canned.controller';
import { CannedService } from './canned.service';
import { MacrosController } from './macros.controller';

/** The HTTP API of issue 14's everyday tools: greeting/away replies and macros (routing runs them), canned responses (kept here). */
@Module({
  controllers: [AutoRepliesController, MacrosController, CannedController],
  providers: [CannedService],
})
export class AutomationApiModule {}
