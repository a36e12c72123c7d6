import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown, BeforeApplicationShutdown } from '@nestjs/common';
import { Bus } from './bus';
import { NatsBus, type NatsBusOptions } from './nats-bus';

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
  static forRoot(opts: NatsBusOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [{ provide: Bus, useFactory: () => NatsBus.connect(opts) }, BusLifecycle],
      exports: [Bus],
    };
  }
}
