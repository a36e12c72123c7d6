import { Controller, Get, HttpStatus, Injectable, Query, Res } from '@nestjs/common';
import type { Response } from 'express';

export type CheckResult = { ok: boolean; detail?: string };
export type ReadinessCheck = () => Promise<CheckResult>;

/** Modules register what "ready" means for them (database, broker, upstream services). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  /** Checks about other services (the gateway pinging the back ends), not this process's own dependencies. */
  private readonly peerChecks = new Set<string>();
  private shuttingDown = false;

  register(name: string, check: ReadinessCheck, opts: { peer?: boolean } = {}): void {
    this.checks.set(name, check);
    if (opts.peer) this.peerChecks.add(name);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** `peers: false` leaves out checks of other services (a Kubernetes readiness probe: one pod's own health). */
  async evaluate(timeoutMs = 2_000, opts: { peers?: boolean } = {}): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.checks].filter(([name]) => opts.peers !== false || !this.peerChecks.has(name)).map(async ([name, check]) => {
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

  /**
   * Ready when this process's database and NATS answer (and, by default, the services it depends on).
   * `?peers=false` checks only the process itself: what a Kubernetes readiness probe asks, so one back end being
   * down never takes every gateway pod (and with it the webhook) out of the Service.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response, @Query('peers') peers?: string) {
    const { ready, checks } = await this.registry.evaluate(2_000, { peers: peers !== 'false' });
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not_ready', checks };
  }
}
