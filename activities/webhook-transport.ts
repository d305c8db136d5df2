import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { nonPublicRange } from '../domain/network-address';
import { urlHost } from '../domain/trigger-validation';

/**
 * The HTTP side of outbound webhooks, with the SSRF guard. Unless private networks are allowed
 * (WEBHOOK_ALLOW_PRIVATE_NETWORKS), a POST goes only to public addresses: an IP literal is
 * checked before connecting, a name through `publicOnlyLookup`, which the socket itself uses
 * to resolve the host, so the address that was checked is the one connected to and a DNS
 * answer that changes between check and connect (rebinding) has no gap to use. The check runs
 * at every attempt, whatever the URL looked like when the trigger was saved.
 */

/** The host is, or resolves to, a non-public address: the delivery fails for good. */
export class PrivateAddressError extends Error {
  constructor(readonly address: string, readonly range: string) {
    super(`the URL resolves to a private address ${address} (${range})`);
    this.name = 'PrivateAddressError';
  }
}

/**
 * dns.lookup that resolves every address of the name and refuses the name when any one of them
 * is non-public: a name with one public and one private address could otherwise be steered to
 * the private one by the connection's address selection.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, family: options.family ?? 0, ...(options.hints === undefined ? {} : { hints: options.hints }) }, (error, addresses) => {
    if (error) return callback(error, '');
    const refused = addresses.map(({ address }) => ({ address, range: nonPublicRange(address) })).find(({ range }) => range !== null);
    if (refused) return callback(new PrivateAddressError(refused.address, refused.range!), '');
    const [first] = addresses;
    if (options.all || !first) return callback(null, addresses);
    callback(null, first.address, first.family);
  });
};

export interface WebhookAnswer {
  status: number;
  /** The start of the answer's body, for the delivery log. */
  answer: string;
}

/** How much of an answer is kept; the rest is not read. */
const answerChars = 200;

export function createWebhookTransport(options: { timeoutMs: number; allowPrivateNetworks: boolean }) {
  const lookup = options.allowPrivateNetworks ? undefined : publicOnlyLookup;
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  /**
   * One POST, redirects not followed. Rejects with a PrivateAddressError when the guard refuses
   * the host, an AbortError when no answer came within the timeout, or the network error.
   */
  function post(rawUrl: string, headers: Record<string, string>, body: string): Promise<WebhookAnswer> {
    const url = new URL(rawUrl);
    const host = urlHost(url);
    // Sockets skip the lookup for an IP literal, so the guard looks at it here.
    const literalRange = lookup && isIP(host) ? nonPublicRange(host) : null;
    if (literalRange) return Promise.reject(new PrivateAddressError(host, literalRange));
    const [transport, agent] = url.protocol === 'https:' ? [https, agents.https] : [http, agents.http];
    return new Promise((resolve, reject) => {
      const request = transport.request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent,
          signal: AbortSignal.timeout(options.timeoutMs),
          ...(lookup ? { lookup } : {}),
        },
        (response) => {
          const status = response.statusCode ?? 0;
          let answer = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            answer += chunk;
            if (answer.length < answerChars) return;
            response.destroy();
            resolve({ status, answer: answer.slice(0, answerChars) });
          });
          response.on('end', () => resolve({ status, answer }));
          // The status decides the outcome; a body cut off after it changes nothing.
          response.on('error', () => resolve({ status, answer }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  return { post };
}
