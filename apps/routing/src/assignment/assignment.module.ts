import { Global, Module } from '@nestjs/common';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { BotRouteRepository } from '../work/bot-route.repository';
import { AssignmentService } from './assignment.service';
import { assignmentProviders } from './assignment.providers';
import { AssignmentSweeper, QueueDrainer } from './assignment.sweeper';
import { CapacityGuard } from './capacity.guard';
import { RoutingClock } from './clock';

/**
 * Automatic assignment. Global: the work module's claim path checks capacity (CapacityGuard), its event handlers
 * route new conversations (AssignmentService) and its changes kick the queues (QueueDrainer).
 */
@Global()
@Module({
  providers: [...assignmentProviders, WorkRepository, AuditRepository, BotRouteRepository],
  exports: [AssignmentService, CapacityGuard, QueueDrainer, AssignmentSweeper, RoutingClock],
})
export class AssignmentModule {}
