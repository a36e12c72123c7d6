import { Injectable } from '@nestjs/common';

/** The time event webhooks run on: the system clock, which tests move (`set`, `advance`). */
@Injectable()
export class EventWebhookClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
