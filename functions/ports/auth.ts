import type { Context } from 'hono';
import type { Principal } from '../domain/model';

/** Establishes who is calling, or undefined when the request proves nobody. */
export type Authenticate = (c: Context) => Promise<Principal | undefined>;

/** Local sign-in: trades a demo user's name for a token. Only the embedded default has it. */
export type DevLogin = (user: string) => Promise<{ token: string; expiresAt: string }>;
