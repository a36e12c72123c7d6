import { detectAll, toISO2 } from 'tinyld';

/**
 * The language of a customer's message, for routing rules (`languages` condition). Detection is statistical
 * (tinyld: n-grams and common words of 62 languages, pure JS, no model to fetch); a short or ambiguous text gives
 * null rather than a guess, and routing then falls back to the contact's `language` attribute.
 */

/** Fewer letters than this (after URLs, numbers, emoji and punctuation are dropped) give no language. */
export const MIN_LETTERS = 12;
/** …in at least this many different words (a lone word or "lol lol lol" is a name, a brand or a sound). */
export const MIN_WORDS = 2;
/** The best guess must score at least this many times the runner-up's (tinyld's accuracies are relative). */
export const MIN_LEAD = 1.5;
/** …and at least this accuracy (below it tinyld has matched a stray n-gram or two). */
export const MIN_ACCURACY = 0.05;
/** Only the beginning is looked at: enough to tell, and the cost stays bounded (WhatsApp allows 4,096 chars). */
export const MAX_CHARS = 300;

/**
 * No customer writes Latin, Esperanto, Volapük or Klingon: tinyld knows them, but as its best guess they only ever
 * mean noise (brand names, laughter), so they give null. (Its `only` option would drop them at ~7× the CPU.)
 */
const NOT_SPOKEN = new Set(['lat', 'epo', 'vol', 'tlh'].map(toISO2));
/** Scripts written without spaces between words: there the letter count alone decides. */
const UNSPACED_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const URL_RE = /\b(?:https?:\/\/|www\.)\S+/giu;
// linear: no two unbounded runs that can match the same characters (`\S+@\S+` backtracks on a text of '@'s)
const EMAIL_RE = /[^\s@]+@[^\s@]+\.[^\s@]+/gu;
const NOT_WORD_RE = /[^\p{L}\p{M}'’]+/gu;
const LETTER_RE = /\p{L}/gu;

/** The ISO 639-1 code (639-3 where there is none) of the text's language, or null when too short or unclear. */
export function detectLanguage(text: string | null | undefined): string | null {
  if (!text) return null;
  // punctuation would split the text into chunks that tinyld scores apart (and a greeting chunk scores nothing)
  // cut before any pattern runs, so its cost is bounded whatever a customer sends (links and addresses at the cut
  // may be left half: they are dropped as noise below)
  const clean = text.slice(0, MAX_CHARS * 4).replace(URL_RE, ' ').replace(EMAIL_RE, ' ').replace(NOT_WORD_RE, ' ').trim().slice(0, MAX_CHARS);
  if ((clean.match(LETTER_RE)?.length ?? 0) < MIN_LETTERS) return null;
  if (!UNSPACED_RE.test(clean) && new Set(clean.toLowerCase().split(' ')).size < MIN_WORDS) return null;
  const [best, second] = detectAll(clean);
  if (!best || best.accuracy < MIN_ACCURACY || NOT_SPOKEN.has(best.lang)) return null;
  if (second && best.accuracy < second.accuracy * MIN_LEAD) return null;
  return best.lang;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);

/**
 * What the customer wrote in a message of this WhatsApp type (the type-specific content object): a text's body,
 * an interactive reply's title (and description), a quick-reply button's text, a media caption. Null otherwise:
 * the rendered text of other types (`[Image]`, `[Location: …]`) is ours, not the customer's.
 */
export function writtenText(type: string, content: unknown): string | null {
  const c = obj(content);
  switch (type) {
    case 'text':
      return str(c.body);
    case 'image':
    case 'video':
    case 'document':
      return str(c.caption);
    case 'button':
      return str(c.text);
    case 'interactive': {
      const reply = obj(c[str(c.type) ?? '']);
      return [str(reply.title), str(reply.description)].filter(Boolean).join('. ') || null;
    }
    default:
      return null;
  }
}

/** The language of what the customer wrote in this message, or null. */
export function messageLanguage(type: string, content: unknown): string | null {
  return detectLanguage(writtenText(type, content));
}
