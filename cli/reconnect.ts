// Riding out a Temporal restart: a call that fails because the server cannot be reached is retried with
// backoff on a fresh connection, for up to a budget (60 s); any other error is thrown at once.
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, WorkflowFailedError } from '@temporalio/client';
import { TemporalFailure } from '@temporalio/common';
import { errorText } from '../domain/errors';
import { connectionOptions, type TemporalAccess } from '../activities/temporal-access';

export interface RetryPolicy {
  /** How long the server may stay unreachable, counted from the first failure. */
  budgetMs: number;
  initialMs: number;
  maxMs: number;
}

export const RECONNECT: RetryPolicy = { budgetMs: 60_000, initialMs: 250, maxMs: 5_000 };

/** gRPC CANCELLED, DEADLINE_EXCEEDED and UNAVAILABLE: what a server going away or coming back looks like. */
const TRANSIENT_CODES = new Set([1, 4, 14]);
const TRANSIENT_TEXT =
  /Channel has been shut down|No connection established|Failed to connect|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|Connection dropped|UNAVAILABLE/i;

/**
 * True for "the server is not there right now". A run's own failure is never transient, even when its
 * message says ECONNREFUSED (a database that refused the runbook is the run's outcome, not ours).
 */
export function isTransient(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 8; depth++, e = e.cause) {
    if (e instanceof TemporalFailure || e instanceof WorkflowFailedError) return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && TRANSIENT_CODES.has(code)) return true;
    if (TRANSIENT_TEXT.test(e.message)) return true;
  }
  return false;
}

/** The server stayed unreachable for the whole budget. */
export class Unreachable extends Error {
  constructor(
    readonly lastError: unknown,
    readonly forMs: number,
  ) {
    super(`Temporal unreachable for ${Math.round(forMs / 1000)} s: ${briefly(lastError)}`);
  }
}

/** gRPC's message without its empty "Resolution note:" tail. */
export const briefly = (err: unknown): string => errorText(err).replace(/\.?\s*Resolution note:\s*$/, '');

export interface RetryHooks {
  /** Called before each wait; drctl drops its connection here so that the next attempt makes a new one. */
  onRetry?: (err: unknown, waitMs: number) => unknown;
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

/** Runs `call` until it succeeds, fails with a non-transient error, or the server stays away longer than the budget. */
export async function retrying<T>(call: () => Promise<T>, policy: RetryPolicy = RECONNECT, hooks: RetryHooks = {}): Promise<T> {
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  let wait = policy.initialMs;
  let firstFailure: number | undefined;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err)) throw err;
      firstFailure ??= now();
      const down = now() - firstFailure;
      if (down + wait > policy.budgetMs) throw new Unreachable(err, down);
      await hooks.onRetry?.(err, wait);
      await sleep(wait);
      wait = Math.min(wait * 2, policy.maxMs);
    }
  }
}

/**
 * One connection to Temporal, made on first use and made again after `drop()`. `grpcAttempts` lowers the SDK's
 * own retries of a call (10 attempts, about 20 s) when `retrying` is the one that rides out an outage.
 */
export class TemporalLink {
  private connection: Promise<Connection> | undefined;

  readonly address: string;
  private resolved: TemporalAccess | undefined;

  /** `access` is resolved (keys, certificates read) only when a connection is made: bad input is refused first. */
  constructor(
    private readonly access: () => TemporalAccess,
    address: string,
    private readonly grpcAttempts?: number,
  ) {
    this.address = address;
  }

  async client(): Promise<Client> {
    const interceptors = this.grpcAttempts ? [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: this.grpcAttempts }))] : undefined;
    const access = (this.resolved ??= this.access());
    this.connection ??= Connection.connect({ ...connectionOptions(access), connectTimeout: '5s', interceptors });
    try {
      return new Client({ connection: await this.connection, namespace: access.namespace, dataConverter: access.dataConverter });
    } catch (err) {
      this.connection = undefined;
      throw err;
    }
  }

  /** Forgets the connection (closing it quietly), so that the next client() connects again. */
  async drop(): Promise<void> {
    const old = this.connection;
    this.connection = undefined;
    await old?.then((c) => c.close()).catch(() => undefined);
  }

  /** `call` with a fresh client, retried through a restart of the server (see retrying). */
  retrying<T>(call: (client: Client) => Promise<T>, onRetry?: RetryHooks['onRetry']): Promise<T> {
    return retrying(async () => call(await this.client()), RECONNECT, {
      onRetry: async (err, waitMs) => {
        await onRetry?.(err, waitMs);
        await this.drop();
      },
    });
  }
}
