/**
 * A line about state that many clients share (sharing lost or back, a shared
 * circuit opening or closing) is no one client's: it goes to every logger of
 * those clients once, through a client whose `logLevel` wants it. A client
 * that logs at `off` silences itself, never the others; clients that share
 * one logger (the default `console`) write the line once.
 */
import type { ScopeLog } from './coordinator.js';

export class Broadcast implements ScopeLog {
  readonly #logs: { log: ScopeLog; logger: unknown }[] = [];

  /**
   * `logger`: the object behind `log`, which tells clients sharing one apart.
   * One entry per logger and level: an app that makes a client per request
   * on one coordinator does not grow this list.
   */
  add(log: ScopeLog, logger: unknown = log): void {
    const same = (entry: { log: ScopeLog; logger: unknown }) =>
      entry.logger === logger && entry.log.warnOn === log.warnOn && entry.log.infoOn === log.infoOn;
    if (!this.#logs.some(same)) this.#logs.push({ log, logger });
  }

  warn(message: string, fields: Record<string, unknown>): void {
    this.#write('warn', message, fields);
  }

  info(message: string, fields: Record<string, unknown>): void {
    this.#write('info', message, fields);
  }

  #write(level: 'warn' | 'info', message: string, fields: Record<string, unknown>): void {
    const written = new Set<unknown>();
    for (const { log, logger } of this.#logs) {
      const wants = level === 'warn' ? log.warnOn : log.infoOn;
      if (wants === false || written.has(logger)) continue;
      written.add(logger);
      log[level](message, fields);
    }
  }
}
