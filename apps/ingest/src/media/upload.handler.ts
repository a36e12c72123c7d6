import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { GetUploadChunkV1, PutUploadChunkV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { UploadService } from './upload.service';

/** Agents' attachments over the bus: the gateway writes them, notifications reads them back for the Graph upload. */
@Injectable()
export class UploadHandler implements OnApplicationBootstrap {
  constructor(
    private readonly uploads: UploadService,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(PutUploadChunkV1, (q) => this.uploads.put(q));
    await this.bus.respond(GetUploadChunkV1, (q) => this.uploads.chunk(q));
  }
}
