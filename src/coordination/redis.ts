/**
 * `chatdash-client/redis`: a coordinator that shares the rate-limit pause,
 * the retry budget, the send rate and the circuit across every process of a
 * fleet through Redis.
 *
 * It loads nothing: the app passes its own connected client (ioredis,
 * iovalkey or node-redis; standalone, Sentinel, TLS or cluster, as the app
 * configured it), and the coordinator only calls methods on it, so both
 * libraries are optional peer dependencies that this subpath never imports.
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
import type { RedisAdapter } from './redis-adapter.js';
import { IoredisAdapter, isIoredis } from './redis-adapter-ioredis.js';
import { isNodeRedis, NodeRedisAdapter } from './redis-adapter-node-redis.js';
import { RedisLink } from './redis-link.js';
import { SharedScope, scopeKeys } from './redis-scope.js';

export type { Coordinator } from '../types.js';

/**
 * A connected Redis client: an `ioredis` (5 or 6) or `iovalkey` `Redis` or
 * `Cluster`, or a `redis` (node-redis 5 or 6) client from `createClient()` or
 * cluster from `createCluster()`. Typed loosely so each package's own types
 * are accepted without this package depending on them; anything else is
 * refused at run time.
 */
export interface RedisClient {
  /** Makes the coordinator's own publish/subscribe connection. */
  duplicate(...args: never[]): unknown;
  /** Where the coordinator hears that the connection is ready again. */
  on(...args: never[]): unknown;
}

/** Options for {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions {
  /**
   * A connected client (`new Redis(url)`, `new Cluster(nodes)`,
   * `await createClient({ url }).connect()`, ...), which stays the app's:
   * `close()` leaves it open and it is never reconfigured. Give it a short
   * reconnect delay (ioredis `retryStrategy: () => 100`) so sharing resumes
   * soon after an outage.
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
const ACCEPTED =
  'an ioredis (5 or 6) or iovalkey Redis or Cluster, or a node-redis (redis 5 or 6) client from createClient() or cluster from createCluster()';

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
  const adapter =
    adapterFor(redis) ?? fail(`${WHERE}: redis must be ${ACCEPTED}, got ${describe(redis)}`);
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 100)
    fail(`${WHERE}: prefix must be a string of 1 to 100 characters, got ${describe(prefix)}`);
  return new RedisCoordinator(adapter, prefix, number(timeoutMs, 'timeoutMs', 1, 60_000, WHERE));
}

/** The adapter of `value`'s library, or undefined when it is no client this package knows. */
function adapterFor(value: unknown): RedisAdapter | undefined {
  if (!isObject(value)) return undefined;
  if (isIoredis(value)) return new IoredisAdapter(value);
  if (isNodeRedis(value)) return new NodeRedisAdapter(value);
  return undefined;
}

class RedisCoordinator implements CoordinatorEngine {
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #scopes = new Map<string, SharedScope>();

  constructor(redis: RedisAdapter, prefix: string, timeoutMs: number) {
    try {
      this.#link = new RedisLink(redis, timeoutMs, monotonic);
    } catch (cause) {
      throw new ChatDashError(`${WHERE}: redis could not be used (it must be ${ACCEPTED})`, {
        cause,
      });
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
