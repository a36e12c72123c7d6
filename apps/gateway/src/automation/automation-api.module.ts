import { Module } from '@nestjs/common';
import { AutoRepliesController } from './auto-replies.controller';
import { AutomationRulesController } from './automation-rules.controller';
import { CannedController } from './canned.controller';
import { CannedService } from './canned.service';
import { MacrosController } from './macros.controller';
import { WatchersController } from './watchers.controller';
import { WatchersService } from './watchers.service';

/** The HTTP API of issue 14's everyday tools: greeting/away replies and macros (routing runs them), canned responses and watchers (kept here). */
@Module({
  controllers: [AutoRepliesController, AutomationRulesController, MacrosController, CannedController, WatchersController],
  providers: [CannedService, WatchersService],
})
export class AutomationApiModule {}
