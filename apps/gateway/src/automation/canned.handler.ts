import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { RenderCannedV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { CannedService } from './canned.service';

/** Answers `gateway.render-canned.v1` for routing's automation (a rule's or macro's `sendCanned`). */
@Injectable()
export class CannedHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly canned: CannedService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(RenderCannedV1, (r) => this.canned.renderFor(r.cannedResponseId, r.contactId, r.agentId));
  }
}
