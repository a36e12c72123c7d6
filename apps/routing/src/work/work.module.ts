import { Module } from '@nestjs/common';
import { SlaAuditHandler } from './sla-audit.handler';
import { SnoozeSweeper } from './snooze.sweeper';
import { WorkChangesService } from './work-changes.service';
import { WorkEventsHandler } from './work-events.handler';
import { WorkQueriesService } from './work-queries.service';
import { ErasureResponder } from './erasure.responder';
import { BotRouteRepository } from './bot-route.repository';
import { BotRoutesHandler } from './bot-routes.handler';
import { WorkResponders } from './work.responders';
import { AuditRepository, NoteRepository, WorkRepository } from './work.repository';

@Module({
  providers: [WorkRepository, AuditRepository, NoteRepository, WorkChangesService, WorkQueriesService, WorkEventsHandler, WorkResponders, ErasureResponder, SnoozeSweeper, SlaAuditHandler, BotRouteRepository, BotRoutesHandler],
  exports: [WorkChangesService],
})
export class WorkModule {}
