/**
 * How a Graph API answer is handled (REFERENCE §4.5 and §7.7): retryable codes back off and try again;
 * everything else is permanent and recorded with Meta's code and a sentence an agent understands.
 */
export const RETRYABLE_CODES = new Set([4, 80007, 130429, 131000, 131016, 131056, 131057]);

const EXPLANATIONS: Record<number, string> = {
  0: 'WhatsApp rejected the access token (expired or invalidated); an administrator must renew it.',
  3: 'The app lacks the capability for this call; an administrator must fix the Meta app configuration.',
  4: 'Too many API calls from this app; sending was slowed down.',
  10: 'The app lacks the permission for this call; an administrator must grant it.',
  100: 'WhatsApp refused a parameter of this message (see details).',
  190: 'The WhatsApp access token is expired or invalid; an administrator must renew it.',
  368: 'The business account is temporarily blocked for policy violations.',
  80007: 'The WhatsApp Business Account hit its rate limit; sending was slowed down.',
  130429: 'This number sent too many messages per second; the message was queued and retried.',
  130472: "The customer's number is part of a WhatsApp experiment; marketing messages are not delivered.",
  131000: 'WhatsApp had an unknown error.',
  131005: 'Access denied: the token lacks permission for this number.',
  131008: 'A required parameter is missing from the message.',
  131009: 'A parameter value of the message is not valid.',
  131016: 'WhatsApp is temporarily unavailable.',
  131021: 'The recipient is the sending number itself.',
  131026: 'The message could not be delivered: the number may not be on WhatsApp, use an old app version, or have blocked the business.',
  131042: 'The business account has an eligibility or payment problem; an administrator must fix it in Business Manager.',
  131045: 'The business number is not registered correctly (certificate/registration error).',
  131047: 'More than 24 hours have passed since the customer last wrote: only an approved template can be sent.',
  131048: 'Spam rate limit hit: too many messages from this number were blocked or reported.',
  131049: 'WhatsApp did not deliver this marketing message to keep engagement healthy; try later.',
  131050: 'The customer stopped receiving marketing messages from this business.',
  131051: 'This message type is not supported.',
  131053: 'The media file could not be uploaded or fetched; check the file.',
  131056: 'Too many messages to this customer in a short time; the message was queued and retried.',
  131057: 'The business account is in maintenance (throughput upgrade); retried shortly.',
  132000: "The number of template parameters does not match the template's placeholders.",
  132001: 'The template does not exist for this name and language.',
  132005: 'The template text with its parameters is too long.',
  132007: 'The template parameters break the template format policy.',
  132012: 'A template parameter has the wrong format.',
  132015: 'The template is paused because of low quality; use another template.',
  132016: 'The template is disabled; use another template.',
  133010: 'The business number is not registered on the Cloud API.',
};

export function isRetryable(code: number | null, httpStatus: number): boolean {
  if (httpStatus >= 500) return true;
  return code !== null && RETRYABLE_CODES.has(code);
}

export function explain(code: number | null, fallback: string): string {
  if (code !== null && EXPLANATIONS[code]) return EXPLANATIONS[code];
  if (code !== null && code >= 132000 && code < 133000) return 'WhatsApp refused the template (see details).';
  if (code !== null && code >= 200 && code < 300) return 'The app lacks a permission for this call; an administrator must grant it.';
  return fallback;
}
