import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { PingV1, type PingResponse, type PingableService } from '@app/contracts';
import { Bus, BusError } from '@app/messaging';
import { HealthRegistry } from '@app/platform';

export type ServiceStatus = ({ status: 'up' } & PingResponse) | { status: 'down'; service: string; reason: string };

@Injectable()
export class SystemService implements OnModuleInit {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    // the gateway is ready only when every back-end service answers through the bus
    this.health.register('services', async () => {
      const all = await this.statusOfAll();
      const down = all.filter((s) => s.status === 'down').map((s) => s.service);
      return down.length ? { ok: false, detail: `down: ${down.join(', ')}` } : { ok: true };
    }, { peer: true });
  }

  /** One service through the bus; throws UNAVAILABLE/TIMEOUT (→ 503) when it does not answer. */
  ping(service: PingableService): Promise<PingResponse> {
    return this.bus.request(PingV1[service], {});
  }

  async statusOfAll(): Promise<ServiceStatus[]> {
    return Promise.all(
      (Object.keys(PingV1) as PingableService[]).map(async (service) => {
        try {
          return { status: 'up' as const, ...(await this.ping(service)) };
        } catch (err) {
          if (!(err instanceof BusError)) throw err;
          return { status: 'down' as const, service, reason: err.message };
        }
      }),
    );
  }
}
