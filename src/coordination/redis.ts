/**
 * `chatdash-client/redis`: a coordinator that shares the rate-limit pause,
 * the retry budget, the send rate and the circuit across every process of a
 * fleet through Redis.
 *
 * It loads nothing: the app passes its own connected ioredis (or iovalkey)
 * client, and the coordinator only calls methods on it, so `ioredis` is an
 * optional peer dependency that this subpath never imports.
 *
 * A scope is named by a SHA-256 hash of the origin and the key, so neither
 * the key nor any piece of it reaches Redis or a log.
 */
import { createHash } from 'node:crypto';
import { ChatDashError } from '../errors.js';
import { describe, fail, isObject, known, number } from '../rules.js';
import type { Coordinator } from '../types.js';
import { monotonic } from './clock.js';
import { OPEN_SCOPE, type CoordinatorEngine, type Scope, type ScopeConfig } from './coordinator.js';
import { RedisLink, type Connection } from './redis-link.js';
import { SharedScope, scopeKeys } from './redis-scope.js';

export type { Coordinator } from '../types.js';

/**
 * What the coordinator needs of a Redis client: an `ioredis` (5 or later) or
 * `iovalkey` `Redis` instance fits. Typed loosely so either package's own
 * types are accepted without this package depending on them.
 */
export interface RedisClient {
  /** ioredis's connection state; the coordinator sends only while it is `'ready'`. */
  readonly status: string;
  /** Makes the second connection publish/subscribe needs. */
  duplicate(...args: never[]): unknown;
  /** How the coordinator's Lua scripts are loaded (EVALSHA, then EVAL after NOSCRIPT). */
  defineCommand(...args: never[]): unknown;
}

/** Options for {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions {
  /**
   * A connected `ioredis` client (`new Redis(url)`), which stays the app's:
   * `close()` leaves it open. Give it a short reconnect delay
   * (`retryStrategy: () => 100`) so sharing resumes soon after an outage.
   */
  redis: RedisClient;
  /**
   * The start of every key (and channel) the coordinator writes.
   * @default 'chatdash:'
   */
  prefix?: string | undefined;
  /**
   * How long a decision waits for Redis before it decides on this process's
   * own state instead. A number of ms from 1 to 60,000.
   * @default 200
   */
  timeoutMs?: number | undefined;
}

const WHERE = 'createRedisCoordinator';
const INSTALL = 'npm install ioredis, then pass new Redis(url)';

/**
 * A coordinator for `createChatDashClient({ coordinator })` that shares, per
 * origin and key, the rate-limit pause, the retry budget, `rateLimit` and
 * `circuitBreaker` with every process using the same Redis and prefix.
 *
 * In steady state a call makes no round trip to Redis. When Redis is down,
 * slow or answering errors, every decision falls back to this process's own
 * state (no call fails or waits more than `timeoutMs` longer because of it),
 * with one `warn` line, and one `info` line when sharing is back.
 * `close()` closes the connection it made and leaves `redis` open.
 *
 * Throws `ChatDashError` for invalid options.
 */
export function createRedisCoordinator(options: RedisCoordinatorOptions): Coordinator {
  if (!isObject(options))
    fail(`${WHERE}: options must be an object { redis }, got ${describe(options)}`);
  known(options, ['redis', 'prefix', 'timeoutMs'], WHERE);
  const { redis, prefix = 'chatdash:', timeoutMs = 200 } = options;
  if (!isRedis(redis))
    fail(`${WHERE}: redis must be a connected ioredis client (${INSTALL}), got ${describe(redis)}`);
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 100)
    fail(`${WHERE}: prefix must be a string of 1 to 100 characters, got ${describe(prefix)}`);
  return new RedisCoordinator(
    redis as unknown as Connection,
    prefix,
    number(timeoutMs, 'timeoutMs', 1, 60_000, WHERE),
  );
}

function isRedis(value: unknown): boolean {
  if (!isObject(value)) return false;
  const redis = value as Record<string, unknown>;
  return (
    typeof redis['status'] === 'string' &&
    ['duplicate', 'defineCommand', 'ping', 'on', 'off'].every((m) => typeof redis[m] === 'function')
  );
}

class RedisCoordinator implements CoordinatorEngine {
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #scopes = new Map<string, SharedScope>();

  constructor(redis: Connection, prefix: string, timeoutMs: number) {
    try {
      this.#link = new RedisLink(redis, timeoutMs);
    } catch (cause) {
      throw new ChatDashError(`${WHERE}: redis could not be used (${INSTALL})`, { cause });
    }
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  [OPEN_SCOPE](origin: string, apiKey: string, config: ScopeConfig): Scope {
    const id = createHash('sha256').update(`${origin}\n${apiKey}`).digest('hex');
    let scope = this.#scopes.get(id);
    if (!scope) {
      const keys = scopeKeys(this.#prefix, id);
      scope = new SharedScope(this.#link, keys, monotonic, this.#timeoutMs);
      this.#scopes.set(id, scope);
      this.#link.listen(scope.keys.channel, scope);
    }
    const handle = scope.handle(config); // throws for numbers that conflict: that client never logs
    this.#link.useLog(config.log, config.logger);
    return handle;
  }

  /** Stops sharing: calls in flight and later ones go on with each process's own state. */
  close(): Promise<void> {
    this.#link.close();
    return Promise.resolve();
  }
}
