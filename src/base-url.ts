/**
 * The `baseUrl` rules, one message per rule: which rule failed, the value
 * given (credentials and query masked), and `CHATDASH_BASE_URL` when the
 * value came from there.
 */
import { ChatDashError } from './errors.js';
import { maskSecrets } from './rules.js';

const WHERE = 'createChatDashClient: baseUrl';
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** The URL without a trailing slash, or a `ChatDashError` naming the first rule it breaks. */
export function checkBaseUrl(baseUrl: unknown, fromEnv: boolean): string {
  const from = fromEnv ? ' (from CHATDASH_BASE_URL)' : '';
  if (typeof baseUrl !== 'string') {
    const type = baseUrl === null ? 'null' : typeof baseUrl;
    throw new ChatDashError(`${WHERE} must be a string, got ${type}${from}`);
  }
  const fail = (rule: string): never => {
    throw new ChatDashError(`${WHERE} ${rule}, got ${quote(baseUrl)}${from}`);
  };
  const url = URL.canParse(baseUrl) ? new URL(baseUrl) : fail('must be an absolute URL');
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname))))
    fail('must use https: (http: only for localhost, 127.0.0.0/8 and [::1])');
  if (url.username || url.password) fail('must not carry credentials');
  // `new URL` drops an empty `?` or `#`: the string still asked for one.
  if (url.search || url.hash || /[?#]/.test(baseUrl)) fail('must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/** The value as given, quoted and cut at 120 characters, with what may be a secret masked. */
function quote(value: string): string {
  const masked = maskSecrets(value);
  return JSON.stringify(masked.length > 120 ? `${masked.slice(0, 120)}...` : masked);
}
