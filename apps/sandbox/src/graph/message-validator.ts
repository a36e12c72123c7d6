import { GraphError, GraphErrors } from './graph-errors';
import { bodyParameterCount, type SandboxTemplate } from './templates';

/**
 * Validates a `POST /{version}/{phone-number-id}/messages` body the way the Cloud API does (REFERENCE §2):
 * messaging_product, to, type and the type's object; text ≤ 4096; template name/language/parameters;
 * interactive ≤ 3 buttons (titles ≤ 20), ≤ 10 list rows. Returns the error Meta would answer with.
 */
export type ValidatedBody =
  | { kind: 'message'; type: string; to: string; isTemplate: boolean }
  | { kind: 'mark-read'; messageId: string; typing: boolean };

const MEDIA = ['image', 'video', 'audio', 'document', 'sticker'];
const TYPES = ['text', ...MEDIA, 'template', 'interactive', 'reaction', 'location', 'contacts'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

export function validateMessageBody(body: unknown, findTemplate: (name: string, lang: string) => SandboxTemplate | undefined): ValidatedBody | GraphError {
  if (!isObj(body)) return GraphErrors.invalidParameter('The request body must be a JSON object');
  if (body.messaging_product === undefined) return GraphErrors.requiredParameter('messaging_product');
  if (body.messaging_product !== 'whatsapp')
    return GraphErrors.invalidParameter("Param messaging_product must be 'whatsapp'");

  if (body.status !== undefined) {
    if (body.status !== 'read') return GraphErrors.invalidParameter("Param status must be 'read'");
    if (!isStr(body.message_id) || !body.message_id) return GraphErrors.requiredParameter('message_id');
    if (body.typing_indicator !== undefined) {
      if (!isObj(body.typing_indicator) || body.typing_indicator.type !== 'text')
        return GraphErrors.invalidParameter("Param typing_indicator['type'] must be 'text'");
    }
    return { kind: 'mark-read', messageId: body.message_id, typing: body.typing_indicator !== undefined };
  }

  if (body.to === undefined || body.to === '') return GraphErrors.requiredParameter('to');
  const to = String(body.to).replace(/^\+/, '');
  if (!/^\d{5,20}$/.test(to) && !/^[A-Z]{2}(\.ENT)?\.[A-Za-z0-9]{1,128}$/.test(to))
    return GraphErrors.invalidParameter("Param to must be a phone number (digits) or a business-scoped user id");
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual' && body.recipient_type !== 'group')
    return GraphErrors.invalidParameter("Param recipient_type must be one of {INDIVIDUAL, GROUP}");
  const type = body.type === undefined ? 'text' : body.type;
  if (!isStr(type) || !TYPES.includes(type))
    return GraphErrors.invalidParameter(`Param type must be one of {${TYPES.join(', ').toUpperCase()}}`);
  if (body.context !== undefined && (!isObj(body.context) || !isStr(body.context.message_id) || !body.context.message_id))
    return GraphErrors.requiredParameterMissing("The parameter context['message_id'] is required.");

  const payload = body[type];
  if (type !== 'contacts' && !isObj(payload)) return GraphErrors.requiredParameterMissing(`The parameter ${type} is required.`);
  const p = payload as Obj;
  const problem = validateType(type, p, body[type], findTemplate);
  if (problem) return problem;
  return { kind: 'message', type, to, isTemplate: type === 'template' };
}

function validateType(
  type: string,
  p: Obj,
  raw: unknown,
  findTemplate: (name: string, lang: string) => SandboxTemplate | undefined,
): GraphError | null {
  switch (type) {
    case 'text': {
      if (!isStr(p.body) || p.body.length === 0) return GraphErrors.requiredParameterMissing("The parameter text['body'] is required.");
      if (p.body.length > 4096) return GraphErrors.invalidParameter("Param text['body'] must be at most 4096 characters long.");
      if (p.preview_url !== undefined && typeof p.preview_url !== 'boolean')
        return GraphErrors.invalidParameter("Param text['preview_url'] must be a boolean.");
      return null;
    }
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const hasId = isStr(p.id) && p.id.length > 0;
      const hasLink = isStr(p.link) && p.link.length > 0;
      if (!hasId && !hasLink) return GraphErrors.requiredParameterMissing(`The parameter ${type}['id'] or ${type}['link'] is required.`);
      if (hasId && hasLink) return GraphErrors.invalidParameter(`Only one of ${type}['id'] and ${type}['link'] may be given.`);
      if (hasLink && !/^https?:\/\//i.test(p.link as string)) return GraphErrors.invalidParameter(`Param ${type}['link'] must be a valid URL.`);
      if (p.caption !== undefined && (type === 'audio' || type === 'sticker'))
        return GraphErrors.invalidParameter(`Param ${type}['caption'] is not supported for ${type}.`);
      if (isStr(p.caption) && p.caption.length > 1024) return GraphErrors.invalidParameter(`Param ${type}['caption'] must be at most 1024 characters long.`);
      return null;
    }
    case 'template':
      return validateTemplate(p, findTemplate);
    case 'interactive':
      return validateInteractive(p);
    case 'reaction':
      if (!isStr(p.message_id) || !p.message_id) return GraphErrors.requiredParameterMissing("The parameter reaction['message_id'] is required.");
      if (!isStr(p.emoji)) return GraphErrors.requiredParameterMissing("The parameter reaction['emoji'] is required.");
      return null;
    case 'location':
      if (typeof p.latitude !== 'number' && !isStr(p.latitude)) return GraphErrors.requiredParameterMissing("The parameter location['latitude'] is required.");
      if (typeof p.longitude !== 'number' && !isStr(p.longitude)) return GraphErrors.requiredParameterMissing("The parameter location['longitude'] is required.");
      return null;
    case 'contacts':
      if (!Array.isArray(raw) || raw.length === 0) return GraphErrors.requiredParameterMissing('The parameter contacts is required.');
      if (raw.some((c) => !isObj(c) || !isObj(c.name) || !isStr(c.name.formatted_name)))
        return GraphErrors.requiredParameterMissing("The parameter contacts[0]['name']['formatted_name'] is required.");
      return null;
    default:
      return GraphErrors.invalidParameter(`Param type must be one of {${TYPES.join(', ').toUpperCase()}}`);
  }
}

function validateTemplate(p: Obj, findTemplate: (name: string, lang: string) => SandboxTemplate | undefined): GraphError | null {
  if (!isStr(p.name) || !p.name) return GraphErrors.requiredParameterMissing("The parameter template['name'] is required.");
  if (!isObj(p.language) || !isStr(p.language.code) || !p.language.code)
    return GraphErrors.requiredParameterMissing("The parameter template['language']['code'] is required.");
  const t = findTemplate(p.name, p.language.code);
  if (!t) return GraphErrors.templateMissing(`template name (${p.name}) does not exist in ${p.language.code}`);
  if (t.status === 'PAUSED') return GraphErrors.templateNotApproved(132015, `template ${p.name} is paused`);
  if (t.status === 'DISABLED') return GraphErrors.templateNotApproved(132016, `template ${p.name} is disabled`);
  if (t.status !== 'APPROVED') return GraphErrors.templateMissing(`template ${p.name} (${p.language.code}) is not approved`);
  if (p.components !== undefined && !Array.isArray(p.components)) return GraphErrors.invalidParameter("Param template['components'] must be an array.");
  const components = (p.components ?? []) as unknown[];
  let bodyParams = 0;
  for (const c of components) {
    if (!isObj(c) || !isStr(c.type)) return GraphErrors.requiredParameterMissing("The parameter template['components'][0]['type'] is required.");
    const params = c.parameters === undefined ? [] : c.parameters;
    if (!Array.isArray(params)) return GraphErrors.invalidParameter("Param template['components'][0]['parameters'] must be an array.");
    for (const param of params) {
      if (!isObj(param) || !isStr(param.type)) return GraphErrors.requiredParameterMissing("The parameter parameters['type'] is required.");
      if (param.type.toLowerCase() === 'text' && (!isStr(param.text) || param.text === ''))
        return GraphErrors.invalidParameter("Parameter 'text' is mandatory for component parameter type 'text'");
    }
    if (c.type.toLowerCase() === 'body') bodyParams += params.length;
  }
  const expected = bodyParameterCount(t);
  if (bodyParams !== expected)
    return GraphErrors.templateParamCount(`body: number of localizable_params (${bodyParams}) does not match the expected number of params (${expected})`);
  return null;
}

function validateInteractive(p: Obj): GraphError | null {
  if (!isStr(p.type)) return GraphErrors.requiredParameterMissing("The parameter interactive['type'] is required.");
  if (!isObj(p.body) || !isStr(p.body.text) || !p.body.text) return GraphErrors.requiredParameterMissing("The parameter interactive['body']['text'] is required.");
  if (p.body.text.length > 1024) return GraphErrors.invalidParameter("Param interactive['body']['text'] must be at most 1024 characters long.");
  if (!isObj(p.action)) return GraphErrors.requiredParameterMissing("The parameter interactive['action'] is required.");
  const a = p.action;
  if (p.type === 'button') {
    if (!Array.isArray(a.buttons) || a.buttons.length === 0) return GraphErrors.requiredParameterMissing("The parameter interactive['action']['buttons'] is required.");
    if (a.buttons.length > 3) return GraphErrors.invalidParameter("Param interactive['action']['buttons'] must have at most 3 elements.");
    for (const b of a.buttons) {
      if (!isObj(b) || !isObj(b.reply) || !isStr(b.reply.id) || !isStr(b.reply.title))
        return GraphErrors.requiredParameterMissing("The parameter interactive['action']['buttons'][0]['reply'] is required.");
      if (b.reply.title.length > 20) return GraphErrors.invalidParameter("Param interactive['action']['buttons'][0]['reply']['title'] must be at most 20 characters long.");
    }
    return null;
  }
  if (p.type === 'list') {
    if (!isStr(a.button) || !a.button) return GraphErrors.requiredParameterMissing("The parameter interactive['action']['button'] is required.");
    if (!Array.isArray(a.sections) || a.sections.length === 0) return GraphErrors.requiredParameterMissing("The parameter interactive['action']['sections'] is required.");
    let rows = 0;
    for (const s of a.sections) {
      if (!isObj(s) || !Array.isArray(s.rows) || s.rows.length === 0) return GraphErrors.requiredParameterMissing("The parameter interactive['action']['sections'][0]['rows'] is required.");
      rows += s.rows.length;
    }
    if (rows > 10) return GraphErrors.invalidParameter("Param interactive['action']['sections'] must have at most 10 rows in total.");
    return null;
  }
  if (['cta_url', 'product', 'product_list', 'flow', 'location_request_message', 'address_message'].includes(p.type)) return null;
  return GraphErrors.invalidParameter("Param interactive['type'] must be one of {BUTTON, LIST, CTA_URL, PRODUCT, PRODUCT_LIST, FLOW}");
}
