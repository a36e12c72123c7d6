import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { PingV1, type PingableService } from '@app/contracts';
import { SystemService } from './system.service';

@Controller('api/v1/system')
export class SystemController {
  constructor(private readonly system: SystemService) {}

  /** Every back-end service with its instance, version and database state. */
  @Get('services')
  async services() {
    return { services: await this.system.statusOfAll() };
  }

  /** One service through the bus: 200 with its answer, 503 when it is down or slow. */
  @Get('services/:name')
  service(@Param('name') name: string) {
    if (!Object.hasOwn(PingV1, name)) throw new NotFoundException(`unknown service "${name}"`);
    return this.system.ping(name as PingableService);
  }
}
