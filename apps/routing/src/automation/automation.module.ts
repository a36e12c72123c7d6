import { Module } from '@nestjs/common';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { CsatRepository } from './csat.repository';
import { CsatRecorder } from './csat.recorder';
import { CsatService } from './csat.service';
import { CsatSettingsService } from './csat-settings.service';
import { AutoReplyRepository } from './auto-reply.repository';
import { AutoReplyService } from './auto-reply.service';
import { MacroService } from './macro.service';
import { AutomationSender } from './automation-sender';
import { AutomationRulesService } from './automation-rules.service';
import { WorkModule } from '../work/work.module';

/** Automation that runs where the work state is (issue 14): greeting and away replies, macros, automation rules, CSAT surveys. */
@Module({
  imports: [WorkModule],
  providers: [WorkRepository, AuditRepository, AutoReplyRepository, AutoReplyService, AutomationSender, MacroService, AutomationRulesService, CsatRepository, CsatRecorder, CsatService, CsatSettingsService],
})
export class AutomationModule {}
