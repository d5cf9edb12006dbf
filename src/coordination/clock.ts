/**
 * The clock every wait and deadline runs on. Monotonic: a wall clock stepped
 * back by NTP or an operator would hold a 300 ms pause for an hour, and one
 * stepped forward would end a deadline early. Only a `Retry-After` date is
 * read against the wall clock, once, to turn it into a duration.
 */
export type Clock = () => number;

export const monotonic: Clock = () => performance.now();
