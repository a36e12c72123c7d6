import { IngestInit1764086400000 } from './1764086400000-IngestInit';
import { IngestInbox1764100000000 } from './1764100000000-IngestInbox';
import { IngestMessageContextIndex1764100200000 } from './1764100200000-IngestMessageContextIndex';
import { IngestSearch1764100400000 } from './1764100400000-IngestSearch';
import { IngestContactsApi1795634199093 } from './1795634199093-IngestContactsApi';
import { IngestUploads1795700000000 } from './1795700000000-IngestUploads';

/** Every migration of the ingest schema, in order. Never edit one that has been merged. */
export const ingestMigrations = [IngestInit1764086400000, IngestInbox1764100000000, IngestMessageContextIndex1764100200000, IngestSearch1764100400000, IngestContactsApi1795634199093, IngestUploads1795700000000];
