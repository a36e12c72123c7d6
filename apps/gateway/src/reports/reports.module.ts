import { Module } from '@nestjs/common';
import { RealtimeModule } from '../realtime/realtime.module';
import { ReportsController } from './reports.controller';
import { ReportsApiService } from './reports.service';

/** The manager view: dashboard, drill-down, reports and CSV exports, bulk reassignment (issue 8). */
@Module({ imports: [RealtimeModule], controllers: [ReportsController], providers: [ReportsApiService] })
export class ReportsApiModule {}
