import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface UrlPolicy {
  /** Hosts that may be called over plain http (development). */
  httpHosts: readonly string[];
  /** Allow private, loopback and link-local addresses (development only). */
  allowPrivate: boolean;
}

export type UrlRule = 'valid-url' | 'https-only' | 'no-credentials' | 'resolvable-host' | 'public-address';

/** A target URL the policy refuses; `rule` names which rule (the API answers 400 with it). */
export class UrlPolicyError extends Error {
  constructor(
    readonly rule: UrlRule,
    message: string,
  ) {
    super(`webhook URL refused by rule "${rule}": ${message}`);
  }
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;
const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** Loopback, private, link-local, CGNAT, unique-local, multicast, reserved and unspecified ranges (v4 and v6). */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return blocked.check(v4mapped[1], 'ipv4');
  return blocked.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Checks an event-webhook target: a valid http(s) URL without credentials; https unless the host is an allowed
 * development host; every address the host resolves to must be public unless private ones are allowed. Returns
 * the addresses (the sender connects to exactly these, so a DNS answer cannot change between check and call).
 * Run when a subscription is saved and again before every delivery.
 */
export async function checkTargetUrl(raw: string, policy: UrlPolicy, resolve: Resolver = systemResolver): Promise<{ url: URL; addresses: { address: string; family: number }[] }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlPolicyError('valid-url', 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UrlPolicyError('valid-url', 'the scheme must be https');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (url.protocol === 'http:' && !policy.httpHosts.map((h) => h.toLowerCase()).includes(host))
    throw new UrlPolicyError('https-only', `plain http is allowed only for the development hosts in EVENT_WEBHOOK_HTTP_HOSTS, not "${host}"`);
  if (url.username || url.password) throw new UrlPolicyError('no-credentials', 'the URL must not carry a user name or password (sign with the subscription secret instead)');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new UrlPolicyError('resolvable-host', `"${host}" does not resolve (${(err as { code?: string }).code ?? 'DNS error'})`);
    }
    if (!addresses.length) throw new UrlPolicyError('resolvable-host', `"${host}" has no address`);
  }
  if (!policy.allowPrivate) {
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad)
      throw new UrlPolicyError(
        'public-address',
        `"${host}" resolves to ${bad.address}, a private, loopback or link-local address (allowed only with EVENT_WEBHOOK_ALLOW_PRIVATE=true, for development)`,
      );
  }
  return { url, addresses };
}
