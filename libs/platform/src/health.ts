import { Controller, Get, HttpStatus, Injectable, Res } from '@nestjs/common';
import type { Response } from 'express';

export type CheckResult = { ok: boolean; detail?: string };
export type ReadinessCheck = () => Promise<CheckResult>;

/** Modules register what "ready" means for them (database, broker, upstream services). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async evaluate(timeoutMs = 2_000): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        const result = await Promise.race([
          check().catch((err: Error) => ({ ok: false, detail: err.message })),
          new Promise<CheckResult>((r) => setTimeout(() => r({ ok: false, detail: `no answer in ${timeoutMs} ms` }), timeoutMs).unref()),
        ]);
        return [name, result] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    if (this.shuttingDown) checks.shutdown = { ok: false, detail: 'shutting down' };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly registry: HealthRegistry) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const { ready, checks } = await this.registry.evaluate();
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not_ready', checks };
  }
}
