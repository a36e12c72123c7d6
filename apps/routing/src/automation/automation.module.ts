import { Module } from '@nestjs/common';
import { WorkRepository } from '../work/work.repository';
import { AutoReplyRepository } from './auto-reply.repository';
import { AutoReplyService } from './auto-reply.service';

/** Automation that runs where the work state is (issue 14): greeting and away replies. */
@Module({
  providers: [WorkRepository, AutoReplyRepository, AutoReplyService],
})
export class AutomationModule {}
