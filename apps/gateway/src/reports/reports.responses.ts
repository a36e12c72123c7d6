import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AGE_BUCKETS, AGENT_STATUSES, DRILL_METRICS, WORK_STATUSES } from '@app/contracts';

/** OpenAPI shapes of the manager view (the web client renders them; definitions in docs/METRICS.md). */
class ByStatus {
  @ApiProperty() open!: number;
  @ApiProperty() pending!: number;
  @ApiProperty() snoozed!: number;
}
class AgeBuckets {
  @ApiProperty() lt1h!: number;
  @ApiProperty({ name: '1to4h' }) '1to4h'!: number;
  @ApiProperty({ name: '4to24h' }) '4to24h'!: number;
  @ApiProperty({ name: '1to3d' }) '1to3d'!: number;
  @ApiProperty() gt3d!: number;
}
class AgeByStatus {
  @ApiProperty({ type: AgeBuckets }) open!: AgeBuckets;
  @ApiProperty({ type: AgeBuckets }) pending!: AgeBuckets;
  @ApiProperty({ type: AgeBuckets }) snoozed!: AgeBuckets;
}
class SlaCounts {
  @ApiProperty({ description: 'Unresolved conversations with a running SLA clock in warning (none breached)' }) atRisk!: number;
  @ApiProperty({ description: 'Unresolved conversations with a running SLA clock breached and not yet met' }) breached!: number;
}
class Queue {
  @ApiProperty() length!: number;
  @ApiProperty({ type: String, nullable: true }) oldestQueuedAt!: string | null;
}
class CsatLast7Days {
  @ApiProperty({ description: 'CSAT surveys sent in the last 7 days' }) sent!: number;
  @ApiProperty({ description: 'Of those, rated by the customer' }) rated!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Ratings of 4–5 ÷ rated × 100 (null: none rated)' }) scorePercent!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Rated ÷ sent × 100 (null: none sent)' }) responseRatePercent!: number | null;
}
export class DashboardTeam {
  @ApiProperty({ format: 'uuid' }) teamId!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ type: Queue }) queue!: Queue;
  @ApiProperty({ description: 'Unresolved conversations a bot holds (nobody owns them; not in the queue, but counted in byStatus)' }) withBot!: number;
  @ApiProperty({ type: ByStatus }) byStatus!: ByStatus;
  @ApiProperty({ type: AgeByStatus, description: `Age buckets (${AGE_BUCKETS.join(', ')}) of now − opened` }) age!: AgeByStatus;
  @ApiProperty({ type: SlaCounts }) sla!: SlaCounts;
  @ApiProperty() windowsClosingIn2h!: number;
  @ApiProperty({ type: CsatLast7Days }) csatLast7Days!: CsatLast7Days;
}
class Capacity {
  @ApiProperty({ description: "Open + pending conversations owned (routing's count against the maximum)" }) used!: number;
  @ApiProperty({ type: Number, nullable: true }) max!: number | null;
}
export class DashboardAgent {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ enum: AGENT_STATUSES }) status!: string;
  @ApiProperty() statusSince!: string;
  @ApiProperty({ type: [String] }) teamIds!: string[];
  @ApiProperty({ type: ByStatus }) owned!: ByStatus;
  @ApiProperty({ type: Capacity }) capacity!: Capacity;
  @ApiProperty({ type: String, nullable: true }) oldestWaitingSince!: string | null;
  @ApiProperty({ type: SlaCounts }) sla!: SlaCounts;
  @ApiProperty() repliesLastHour!: number;
}
export class DashboardResponse {
  @ApiProperty({ description: 'The instant the figures are for' }) at!: string;
  @ApiProperty({ type: [DashboardTeam] }) teams!: DashboardTeam[];
  @ApiProperty({ type: [DashboardAgent] }) agents!: DashboardAgent[];
}
class DrillItem {
  @ApiProperty({ format: 'uuid' }) conversationId!: string;
  @ApiProperty({ type: String, nullable: true }) teamId!: string | null;
  @ApiProperty({ type: String, nullable: true }) ownerId!: string | null;
  @ApiProperty({ enum: WORK_STATUSES }) status!: string;
  @ApiProperty({ type: String, nullable: true }) openedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) queuedSince!: string | null;
  @ApiProperty({ type: String, nullable: true }) waitingSince!: string | null;
  @ApiProperty({ enum: ['ok', 'warning', 'breached'], nullable: true }) slaState!: string | null;
  @ApiProperty({ type: String, nullable: true }) windowClosesAt!: string | null;
}
export class DrillResponse {
  @ApiProperty({ enum: DRILL_METRICS }) metric!: string;
  @ApiProperty() total!: number;
  @ApiProperty({ type: [DrillItem] }) items!: DrillItem[];
}
class ReassignResult {
  @ApiProperty({ format: 'uuid' }) conversationId!: string;
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional({ description: 'Why this one was not moved (e.g. CONFLICT, FORBIDDEN)' }) error?: string;
  @ApiPropertyOptional({ type: String, nullable: true }) ownerId?: string | null;
}
export class ReassignAllResponse {
  @ApiProperty() moved!: number;
  @ApiProperty() failed!: number;
  @ApiProperty({ type: [ReassignResult] }) items!: ReassignResult[];
}
