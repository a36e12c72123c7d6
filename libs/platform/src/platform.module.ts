import { Global, Inject, Injectable, Module, OnModuleInit, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Bus } from '@app/messaging';
import { HealthController, HealthRegistry } from './health';
import { MetricsController } from './metrics';

/** Registers the checks every service has: its PostgreSQL and its NATS connection. */
@Injectable()
class CoreReadiness implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly registry: HealthRegistry,
    @Optional() private readonly ds?: DataSource,
    @Optional() @Inject(Bus) private readonly bus?: Bus,
  ) {}

  onModuleInit(): void {
    const ds = this.ds;
    const bus = this.bus;
    if (ds) {
      this.registry.register('database', async () => {
        await ds.query('SELECT 1');
        return { ok: true };
      });
    }
    if (bus) {
      // named for what it is: NATS, or the in-process bus of the single-machine mode
      this.registry.register(bus.transport === 'nats' ? 'nats' : 'bus', async () => ((await bus.isHealthy()) ? { ok: true } : { ok: false, detail: 'not connected' }));
    }
  }

  beforeApplicationShutdown(): void {
    this.registry.markShuttingDown();
  }
}

@Global()
@Module({
  controllers: [HealthController, MetricsController],
  providers: [HealthRegistry, CoreReadiness],
  exports: [HealthRegistry],
})
export class PlatformModule {}
