import { Module } from '@nestjs/common';
import { AutoRepliesController } from './auto-replies.controller';
import { AutomationRefsService } from './automation-refs.service';
import { AutomationRulesController } from './automation-rules.controller';
import { CannedController } from './canned.controller';
import { CannedHandler } from './canned.handler';
import { CannedService } from './canned.service';
import { CsatController } from './csat.controller';
import { MacrosController } from './macros.controller';
import { WatchersController } from './watchers.controller';
import { WatchersService } from './watchers.service';

/** The HTTP API of issue 14's everyday tools: greeting/away replies, macros and CSAT surveys (routing runs them), canned responses and watchers (kept here). */
@Module({
  controllers: [AutoRepliesController, AutomationRulesController, MacrosController, CannedController, WatchersController, CsatController],
  providers: [CannedService, CannedHandler, AutomationRefsService, WatchersService],
})
export class AutomationApiModule {}
