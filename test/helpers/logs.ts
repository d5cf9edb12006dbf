/**
 * A logger for `createChatDashClient({ logger })` that keeps every line it is
 * given, so a test can read what the client said and when.
 */
import { performance } from 'node:perf_hooks';
import type { ChatDashClientOptions } from '../../src/index.js';

export interface LogLine {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  fields: Record<string, unknown> | undefined;
  /** performance.now() when it was written. */
  at: number;
}

export function recordLogs() {
  const lines: LogLine[] = [];
  const write = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields, at: performance.now() });
  const logger = {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
  };
  return { lines, logger };
}

/**
 * A client from `create` (the createChatDashClient the test file uses) with
 * tracing off and a recording logger; what it logs is in `lines`.
 */
export function loggedClient<C extends object>(
  create: (options: ChatDashClientOptions) => C,
  options: ChatDashClientOptions,
): C & { lines: LogLine[] } {
  const { lines, logger } = recordLogs();
  return Object.assign(create({ logger, tracing: false, ...options }), { lines });
}
