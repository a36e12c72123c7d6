import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CheckSendV1, GetConversationV1, RenderCannedV1, SendMessageV1, type Actor, type AutomationAction, type SendMessageRequest, type WorkState } from '@app/contracts';
import { Bus, currentCorrelationId, ValidationError } from '@app/messaging';
import { AuditRepository } from '../work/work.repository';

export type MessageAction = Extract<AutomationAction, { type: 'reply' | 'template' | 'sendCanned' }>;
export const isMessageAction = (a: AutomationAction): a is MessageAction => a.type === 'reply' || a.type === 'template' || a.type === 'sendCanned';

export interface AutomatedSend {
  /** The work state just read (conversation, team, contact, owner). */
  work: WorkState;
  action: MessageAction;
  idempotencyKey: string;
  /** Who the audit entry names: the rule's system actor, or the agent running a macro. */
  actor: Actor;
  /** The message's sender: null id = the system (a rule); an agent's id for a macro they run. */
  sender: { id: string | null; name: string };
  /** Whose name fills `{{agent.name}}` (a rule: the owner; a macro: the agent running it). */
  agentId: string | null;
  /** Named in the audit entry. */
  by: { kind: 'rule' | 'macro'; id: string; name: string };
}

/**
 * Messages to the customer from automation (a rule's reply/template/sendCanned, a macro's sendCanned), through
 * notifications' normal send path (which refuses free text outside the 24 h window), each one an audit entry
 * (`automation.message.sent`) naming the rule or macro. A canned response is filled by the gateway, which owns
 * them; a placeholder without a value refuses the send (VALIDATION naming it) instead of sending a gap.
 */
@Injectable()
export class AutomationSender {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  /** The canned response's text for that conversation (throws when a placeholder has no value). */
  async cannedText(cannedResponseId: string, work: WorkState, agentId: string | null): Promise<string> {
    const r = await this.bus.request(RenderCannedV1, { cannedResponseId, contactId: work.contactId, agentId });
    if (r.missing.length) throw new ValidationError(`canned response not sent: no value for ${r.missing.map((k) => `{{${k}}}`).join(', ')}`);
    return r.text;
  }

  /** The send request for notifications (the canned text filled unless given). */
  async request(s: AutomatedSend, cannedText?: string): Promise<SendMessageRequest> {
    const { work, action } = s;
    const conversationId = work.conversationId;
    const text = action.type === 'sendCanned' ? (cannedText ?? (await this.cannedText(action.cannedResponseId, work, s.agentId))) : undefined;
    const conv = await this.bus.request(GetConversationV1, { conversationId });
    const to = conv.contact.waId ?? conv.contact.userId;
    if (!to) throw new ValidationError('the contact has no WhatsApp id');
    return {
      idempotencyKey: s.idempotencyKey,
      phoneNumberId: conv.phoneNumberId,
      to,
      conversationId,
      senderId: s.sender.id,
      senderName: s.sender.name.slice(0, 200),
      message:
        action.type === 'reply'
          ? { type: 'text', body: action.text }
          : action.type === 'sendCanned'
            ? { type: 'text', body: text! }
            : {
                type: 'template',
                name: action.name,
                language: action.language,
                components: action.bodyParameters.length ? [{ type: 'body', parameters: action.bodyParameters.map((t) => ({ type: 'text', text: t })) }] : undefined,
              },
    };
  }

  /** Would notifications accept it (window, template, body)? Throws its refusal; queues nothing (check-send). */
  async check(request: SendMessageRequest): Promise<void> {
    await this.bus.request(CheckSendV1, request);
  }

  /** Sends it (the request built now unless given) and audits it naming the rule or macro. */
  async send(s: AutomatedSend, cannedText?: string, prepared?: SendMessageRequest): Promise<void> {
    const { work, action } = s;
    const conversationId = work.conversationId;
    const sent = await this.bus.request(SendMessageV1, prepared ?? (await this.request(s, cannedText)));
    if (sent.duplicate) return; // a redelivered trigger: sent and audited the first time
    await this.audit.append(this.ds.manager, {
      conversationId,
      teamId: work.teamId,
      actor: { type: s.actor.type, id: s.actor.id, name: s.actor.name },
      action: 'automation.message.sent',
      before: null,
      after: {
        [s.by.kind]: { id: s.by.id, name: s.by.name },
        type: action.type,
        ...(action.type === 'sendCanned' ? { cannedResponseId: action.cannedResponseId } : {}),
        ...(action.type === 'template' ? { template: { name: action.name, language: action.language } } : {}),
        sendId: sent.sendId,
      },
      requestId: currentCorrelationId() ?? null,
    });
  }
}
