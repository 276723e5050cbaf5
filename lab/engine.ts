// What the lab needs to know to run one database engine: its server, its client and its bootstrap SQL.
import type { Site } from '../config/schema';

export type Engine = 'mysql' | 'mariadb';

/** SQL-quoted passwords of the lab's users. */
export interface Logins {
  runbook: string;
  replication: string;
}

export interface EngineServer {
  name: string;
  /** The command-line client, run as root over the server's socket. */
  client: () => string;
  initialise: (datadir: string) => void;
  /** The command that runs the server, and the arguments before the server's own. */
  daemon: () => { command: string; prefix: string[] };
  /** Engine-specific server flags; the common ones (data dir, socket, port, …) are the lab's. */
  args: (ctx: { serverId: number; host: string; port: number; datadir: string }) => string[];
  primaryBootstrap: (m: Site['mysql'], logins: Logins) => string[];
  /** Makes the first primary writable (its bootstrap SQL needs that too). */
  openPrimary: () => string[];
  replicate: (source: Site['mysql'], replica: Site['mysql'], logins: Logins) => string;
}
