import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown, BeforeApplicationShutdown } from '@nestjs/common';
import { Bus } from './bus';
import { EmbeddedBus } from './embedded-bus';
import { NatsBus, type NatsBusOptions } from './nats-bus';

export interface BusModuleOptions extends NatsBusOptions {
  /** `nats` (default): NATS + JetStream at `url`. `embedded`: the in-process bus, its log in the database at `databaseUrl`. */
  transport?: 'nats' | 'embedded';
  databaseUrl?: string;
}

function connectBus(opts: BusModuleOptions): Promise<Bus> {
  if (opts.transport !== 'embedded') return NatsBus.connect(opts);
  if (!opts.databaseUrl) throw new Error('the embedded bus needs databaseUrl');
  return EmbeddedBus.connect({ databaseUrl: opts.databaseUrl, namespace: opts.namespace, service: opts.service });
}

@Injectable()
class BusLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(@Inject(Bus) private readonly bus: Bus) {}
  /** Stop taking work first, so in-flight handlers finish while the database is still open. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.bus.stopConsumers();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

@Global()
@Module({})
export class MessagingModule {
  static forRoot(opts: BusModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [{ provide: Bus, useFactory: () => connectBus(opts) }, BusLifecycle],
      exports: [Bus],
    };
  }
}
