import { AgentRepository, RuleRepository, TeamRoutingRepository } from './assignment.repository';
import { AssignmentAdminService } from './assignment-admin.service';
import { AssignmentResponders } from './assignment.responders';
import { AssignmentService } from './assignment.service';
import { AssignmentSweeper, QueueDrainer } from './assignment.sweeper';
import { CapacityGuard } from './capacity.guard';
import { RoutingClock } from './clock';

/** Automatic assignment's providers (see AssignmentModule). */
export const assignmentProviders = [
  RoutingClock,
  AgentRepository,
  TeamRoutingRepository,
  RuleRepository,
  AssignmentService,
  AssignmentAdminService,
  AssignmentResponders,
  AssignmentSweeper,
  QueueDrainer,
  CapacityGuard,
];
