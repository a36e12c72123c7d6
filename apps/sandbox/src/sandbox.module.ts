import { Controller, DynamicModule, Get, Module } from '@nestjs/common';
import { ConsoleController } from './console/console.controller';
import { SANDBOX_CONFIG, type SandboxConfig } from './config';
import { GraphController } from './graph/graph.controller';
import { SandboxState } from './graph/sandbox-state';
import { WebhookSender } from './webhooks/webhook-sender';

@Controller('health')
class SandboxHealthController {
  @Get('live')
  live() {
    return { status: 'ok', sandbox: true };
  }
  @Get('ready')
  ready() {
    return { status: 'ready', sandbox: true };
  }
}

/** WhatsApp Cloud API simulator: no database, no NATS; in-memory state. Console routes first (Graph routes are catch-alls). */
@Module({})
export class SandboxModule {
  static register(cfg: SandboxConfig): DynamicModule {
    return {
      module: SandboxModule,
      controllers: [SandboxHealthController, ConsoleController, GraphController],
      providers: [{ provide: SANDBOX_CONFIG, useValue: cfg }, SandboxState, WebhookSender],
      exports: [SandboxState, WebhookSender],
    };
  }
}
