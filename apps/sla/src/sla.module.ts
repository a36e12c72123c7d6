import { DynamicModule, Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { NoticeRequestedV1, SlaEscalatedV1 } from '@app/contracts';
import { pingProviders, serviceCore } from '@app/platform';
import { SlaAdminService } from './admin/sla-admin.service';
import { Clock, SystemClock } from './clock/clock';
import { ClocksService } from './clocks/clocks.service';
import { SlaQueriesService } from './clocks/sla-queries.service';
import { SLA_CONFIG, type SlaConfig } from './config';
import { ClockEventsHandler } from './events/clock-events.handler';
import { BotHoldHandler } from './events/bot-hold.handler';
import { slaMigrations } from './migrations';
import { SlaResponders } from './sla.responders';
import { DashboardService } from './reports/dashboard.service';
import { CsatProjector } from './reports/csat.projector';
import { ReportsProjector } from './reports/reports.projector';
import { ReportsResponders } from './reports/reports.responders';
import { ReportsService } from './reports/reports.service';
import { EscalationWriter } from './timers/escalation.writer';
import { RemindersService } from './timers/reminders.service';
import { TimerFireService } from './timers/timer-fire.service';
import { TimerRepository } from './timers/timer.repository';
import { TimerWorker } from './timers/timer.worker';

@Global()
@Module({})
class SlaConfigModule {
  static register(cfg: SlaConfig, clock: Clock): DynamicModule {
    return {
      module: SlaConfigModule,
      providers: [
        { provide: SLA_CONFIG, useValue: cfg },
        { provide: Clock, useValue: clock },
      ],
      exports: [SLA_CONFIG, Clock],
    };
  }
}

@Module({})
export class SlaModule {
  /** `clock`: the time sla acts on (tests pass a ManualClock). */
  static register(cfg: SlaConfig, opts: { clock?: Clock } = {}): DynamicModule {
    return {
      module: SlaModule,
      imports: [
        SlaConfigModule.register(cfg, opts.clock ?? new SystemClock()),
        ScheduleModule.forRoot(),
        ...serviceCore(cfg, { service: 'sla', schema: 'sla', migrations: slaMigrations, outboxContracts: [NoticeRequestedV1, SlaEscalatedV1] }),
      ],
      providers: [
        ...pingProviders('sla'),
        SlaAdminService,
        TimerRepository,
        EscalationWriter,
        ClocksService,
        SlaQueriesService,
        RemindersService,
        TimerFireService,
        TimerWorker,
        ClockEventsHandler,
        BotHoldHandler,
        SlaResponders,
        // issue 8: the reporting projection, dashboard and reports
        ReportsProjector,
        CsatProjector,
        DashboardService,
        ReportsService,
        ReportsResponders,
      ],
    };
  }
}
