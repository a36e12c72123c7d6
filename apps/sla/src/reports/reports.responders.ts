import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DashboardDrillV1, GetDashboardV1, GetReportV1, ReportRowsV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { DashboardService } from './dashboard.service';
import { ReportsService } from './reports.service';

/** Answers the dashboard and report requests (transport only). The gateway has scoped them to the caller. */
@Injectable()
export class ReportsResponders implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly dashboard: DashboardService,
    private readonly reports: ReportsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([
      this.bus.respond(GetDashboardV1, (r) => this.dashboard.dashboard(r)),
      this.bus.respond(DashboardDrillV1, (r) => this.dashboard.drill(r)),
      this.bus.respond(GetReportV1, (r) => this.reports.report(r.kind, r.filter, r.agentIds)),
      this.bus.respond(ReportRowsV1, (r) => this.reports.rows(r.kind, r.filter, r.cursor, r.limit, r.agentIds)),
    ]);
  }
}
