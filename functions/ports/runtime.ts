export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A new unique, time-ordered id with the given prefix. */
  next(prefix: string): string;
}
