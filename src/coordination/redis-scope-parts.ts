/**
 * What the shared rate (redis-rate.ts) and the shared circuit
 * (redis-breaker.ts) use of the scope that owns them: its link, its keys, its
 * clock, the process's own state and its log. Declared here rather than in
 * redis-scope.ts, so the parts and the scope that makes them do not import
 * each other.
 */
import type { Clock } from './clock.js';
import type { ScopeLog } from './coordinator.js';
import type { MemoryScope } from './memory.js';
import type { RedisLink } from './redis-link.js';

export interface ScopeParts {
  readonly link: RedisLink;
  readonly keys: ScopeKeys;
  readonly clock: Clock;
  /** This process's own state: what every decision falls back to while Redis is away. */
  readonly local: MemoryScope;
  /** Every client's log: where the circuit lines go. */
  readonly log: ScopeLog;
}

export interface ScopeKeys {
  pause: string;
  budget: string;
  rate: string;
  processes: string;
  failures: string;
  circuit: string;
  wait: string;
  alive: string;
  channel: string;
}

/** Every key of a scope, under the prefix; the braces keep them in one Redis Cluster slot. */
export function scopeKeys(prefix: string, id: string): ScopeKeys {
  const at = (name: string) => `${prefix}{${id}}:${name}`;
  return {
    pause: at('pause'),
    budget: at('budget'),
    rate: at('rate'),
    processes: at('processes'),
    failures: at('failures'),
    circuit: at('circuit'),
    wait: at('wait'),
    alive: at('alive'),
    channel: at('events'),
  };
}
