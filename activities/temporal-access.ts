// How every process of the project reaches Temporal: address, TLS, API key and the payload codec, all from the
// config's `temporal` section. Workers, drctl, the schedules, the alert intake and the agents all come here.
import { Client, Connection, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { LoadedConfig } from '../config/load';
import { aesGcmCodec } from './payload-codec';
import { resolveSecret } from './secrets';

export interface TemporalAccess {
  address: string;
  namespace: string;
  tls?: TLSConfig;
  apiKey?: string;
  dataConverter?: DataConverter;
}

export function temporalAccess(loaded: LoadedConfig): TemporalAccess {
  const t = loaded.config.temporal;
  const secret = (ref: string) => resolveSecret(ref, loaded.baseDir);
  const tls: TLSConfig | undefined = t.tls && {
    serverNameOverride: t.tls.serverName,
    serverRootCACertificate: t.tls.ca ? Buffer.from(secret(t.tls.ca)) : undefined,
    clientCertPair: t.tls.cert && t.tls.key ? { crt: Buffer.from(secret(t.tls.cert)), key: Buffer.from(secret(t.tls.key)) } : undefined,
  };
  return {
    address: t.address,
    namespace: t.namespace,
    tls,
    apiKey: t.apiKey ? secret(t.apiKey) : undefined,
    dataConverter: t.encryption
      ? { payloadCodecs: [aesGcmCodec(t.encryption, loaded.baseDir)], failureConverterPath: require.resolve('./failure-converter') }
      : undefined,
  };
}

/** What both `Connection` (client) and the worker's `NativeConnection` take. */
export function connectionOptions(access: TemporalAccess): { address: string; tls?: TLSConfig; apiKey?: string } {
  return { address: access.address, tls: access.tls, apiKey: access.apiKey };
}

export async function connectClient(
  loaded: LoadedConfig,
  extra: Partial<ConnectionOptions> = {},
): Promise<{ client: Client; connection: Connection }> {
  const access = temporalAccess(loaded);
  const connection = await Connection.connect({ ...connectionOptions(access), ...extra });
  return { connection, client: new Client({ connection, namespace: access.namespace, dataConverter: access.dataConverter }) };
}
