// The codec server: decodes (and encodes) payloads for the Temporal UI and the `temporal` CLI with the config's
// encryption keys, so that people can read histories that Temporal itself stores encrypted.
//   npx tsx workers/codec-server.ts --config dr.yaml
// The keys are read once at start (a new key needs a restart, like the workers); the token at each request.
import type { Payload, PayloadCodec } from '@temporalio/common';
import { aesGcmCodec, CodecError, ENCRYPTED } from '../activities/payload-codec';
import { resolveSecret } from '../activities/secrets';
import { fail, workerArgs } from './args';
import { serveCodec } from './codec/codec-http';

async function main(): Promise<void> {
  const { loaded } = workerArgs(false);
  const { encryption, codecServer } = loaded.config.temporal;
  if (!codecServer) fail(`${loaded.file}: temporal.codecServer is not set: nothing to serve`);
  const codec = encryption ? aesGcmCodec(encryption, loaded.baseDir) : PLAIN;
  const token = () => resolveSecret(codecServer.token, loaded.baseDir).trim();
  token(); // a missing token fails the start, not the first request
  const server = await serveCodec({
    codec,
    token,
    uiOrigins: codecServer.uiOrigins,
    host: codecServer.host,
    port: codecServer.port,
    log: (line) => console.log(line),
  });
  const origins = codecServer.uiOrigins.join(', ') || 'none';
  console.log(
    `codec server listening on http://${codecServer.host}:${codecServer.port} (keys: ${encryption ? Object.keys(encryption.keys).join(', ') : 'none, payloads pass unchanged'}; UI origins: ${origins})`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => console.log('codec server stopped')));
}

/** Without temporal.encryption (a lab before its tests encrypt): payloads pass unchanged, encrypted ones are refused. */
const PLAIN: PayloadCodec = {
  encode: async (payloads: Payload[]) => payloads,
  decode: async (payloads: Payload[]) => {
    if (payloads.some((p) => Buffer.from(p.metadata?.encoding ?? []).toString() === ENCRYPTED))
      throw new CodecError('a payload is encrypted, but temporal.encryption is not set: no keys to decrypt it with');
    return payloads;
  },
};

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
