import type { Context } from 'hono';
import type { Principal } from '../domain/model';

/** Establishes who is calling, or undefined when the request proves nobody. */
export type Authenticate = (c: Context) => Promise<Principal | undefined>;

/**
 * Local sign-in: trades a user's name for a token, and against AWS the code the server printed at
 * start. Only the local processes have it.
 */
export type DevLogin = (
  user: string,
  code?: string,
) => Promise<{ token: string; expiresAt: string }>;
