import { Injectable } from '@nestjs/common';

/**
 * The time routing's timeouts are measured against (idle/disconnect, unanswered customers). Real time plus an
 * offset that tests move forward, so no test sleeps through a timeout.
 */
@Injectable()
export class RoutingClock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Tests only: move time forward. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
