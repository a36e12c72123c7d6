import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';
import { DirectoryAudit } from '../auth/directory-audit';
import type { Principal } from '../auth/principal';
import { LabelsRepository, type LabelView } from './labels.repository';

const unique = (name: string) => (err: unknown) => {
  if (err instanceof QueryFailedError && (err as { code?: string }).code === '23505')
    throw new ConflictException(`a label named "${name}" exists`, { cause: err });
  throw err;
};

/**
 * The label catalogue (admins manage it; every change is audited through the outbox like users and teams).
 * Conversations may only be given labels from it. Renaming or deleting a label does not rewrite the
 * conversations that carry it: they keep the name they had until their labels change.
 */
@Injectable()
export class LabelsService {
  constructor(
    private readonly ds: DataSource,
    private readonly labels: LabelsRepository,
    private readonly audit: DirectoryAudit,
  ) {}

  list(): Promise<LabelView[]> {
    return this.labels.list(this.ds.manager);
  }

  async get(id: string): Promise<LabelView> {
    const l = await this.labels.get(this.ds.manager, id);
    if (!l) throw new NotFoundException(`label ${id} not found`);
    return l;
  }

  create(name: string, color: string, by: Principal): Promise<LabelView> {
    const n = name.trim();
    return this.ds.transaction(async (em) => {
      const l = await this.labels.insert(em, n, color.toLowerCase());
      if (!l) throw new ConflictException(`a label named "${n}" exists`);
      await this.audit.record(em, by, { action: 'label.created', entityType: 'label', entityId: l.id, before: null, after: { name: l.name, color: l.color } });
      return l;
    });
  }

  update(id: string, p: { name?: string; color?: string }, by: Principal): Promise<LabelView> {
    const name = p.name?.trim();
    return this.ds
      .transaction(async (em) => {
        const before = await this.labels.lock(em, id);
        if (!before) throw new NotFoundException(`label ${id} not found`);
        const after = await this.labels.update(em, id, { name, color: p.color?.toLowerCase() });
        if (after.name !== before.name || after.color !== before.color)
          await this.audit.record(em, by, {
            action: 'label.updated',
            entityType: 'label',
            entityId: id,
            before: { name: before.name, color: before.color },
            after: { name: after.name, color: after.color },
          });
        return after;
      })
      .catch(unique(name ?? ''));
  }

  remove(id: string, by: Principal): Promise<LabelView> {
    return this.ds.transaction(async (em) => {
      const before = await this.labels.lock(em, id);
      if (!before) throw new NotFoundException(`label ${id} not found`);
      await this.labels.delete(em, id);
      await this.audit.record(em, by, { action: 'label.deleted', entityType: 'label', entityId: id, before: { name: before.name, color: before.color }, after: null });
      return before;
    });
  }

  /**
   * The catalogue names (as spelled in the catalogue) for `names`, matched in any case; `unknown` lists
   * those not in it.
   */
  async resolve(names: string[]): Promise<{ names: string[]; unknown: string[] }> {
    const found = await this.labels.byNames(this.ds.manager, names);
    const unknown = names.filter((n) => !found.has(n.toLowerCase()));
    return { names: names.map((n) => found.get(n.toLowerCase())?.name ?? n), unknown };
  }
}
