import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ContactKeysV1, EraseContactV1, GetContactV1, ListContactsV1, MergeContactsV1, UpdateContactV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { ContactsService } from './contacts.service';

/** Answers the contacts API's requests (the gateway has already checked roles, scopes and visibility). */
@Injectable()
export class ContactsHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly contacts: ContactsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(ListContactsV1, (q) => this.contacts.list(q));
    await this.bus.respond(GetContactV1, (q) => this.contacts.get(q));
    await this.bus.respond(UpdateContactV1, (q) => this.contacts.update(q));
    await this.bus.respond(MergeContactsV1, (q) => this.contacts.merge(q));
    await this.bus.respond(EraseContactV1, (q) => this.contacts.erase(q));
    await this.bus.respond(ContactKeysV1, (q) => this.contacts.keys(q));
  }
}
