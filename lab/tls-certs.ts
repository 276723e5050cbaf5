// The lab's own PKI for TLS to Temporal: a CA, a server certificate for the proxy in front of the dev server and
// a client certificate for every process of the lab, made once with Debian's openssl. ECDSA P-256 keys in
// PKCS#8: quick to make, and what rustls (the worker's core), Node and Go all read.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export const OPENSSL_BIN = '/usr/bin/openssl';

/** Where the files are: the config's temporal.tls names ca, clientCert and clientKey; HAProxy reads serverPem. */
export interface TlsFiles {
  ca: string;
  caKey: string;
  /** The server's certificate and key in one file, as HAProxy's `crt` takes it. */
  serverPem: string;
  clientCert: string;
  clientKey: string;
}

export function tlsFilesIn(dir: string): TlsFiles {
  return {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    serverPem: join(dir, 'server.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
}

/** `IP:198.18.1.4,IP:127.0.0.1,DNS:localhost`: each name once, an address as IP, anything else as DNS. */
export function subjectAltNames(names: string[]): string {
  return [...new Set(names)].map((name) => `${isIP(name) ? 'IP' : 'DNS'}:${name}`).join(',');
}

/** The openssl extension sections of each certificate. rustls (webpki) wants CA:TRUE, SANs and the right EKU. */
export function extensionsText(sans: string): string {
  return [
    // Only for `openssl req`, which wants a distinguished_name section even with -subj.
    '[req]',
    'distinguished_name = dn',
    '[dn]',
    '',
    '[ca]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '',
    '[server]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${sans}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
    '[client]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = clientAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
}

/** Node's spelling of the SANs (`IP Address:…, DNS:…`), to compare with a certificate's subjectAltName. */
function nodeSans(names: string[]): string[] {
  return [...new Set(names)].map((name) => `${isIP(name) ? 'IP Address' : 'DNS'}:${name}`).sort();
}

const DAY_MS = 86_400_000;

/**
 * Why the files in `dir` will not do for `names` (null: they will): one missing, a server certificate without
 * one of the names, a certificate the CA did not sign, or one that ends within a week.
 */
export function tlsFilesProblem(dir: string, names: string[], now = Date.now()): string | null {
  const files = tlsFilesIn(dir);
  const missing = Object.values(files).filter((f) => !existsSync(f));
  if (missing.length) return `missing ${missing.join(', ')}`;
  const ca = new X509Certificate(readFileSync(files.ca));
  for (const file of [files.serverPem, files.clientCert]) {
    const cert = new X509Certificate(readFileSync(file));
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return `${file} is not signed by ${files.ca}`;
    if (Date.parse(cert.validTo) - now < 7 * DAY_MS) return `${file} expires ${cert.validTo}`;
  }
  const have = (new X509Certificate(readFileSync(files.serverPem)).subjectAltName ?? '').split(', ').sort();
  const lacking = nodeSans(names).filter((san) => !have.includes(san));
  return lacking.length ? `${files.serverPem} lacks ${lacking.join(', ')}` : null;
}

/**
 * The CA, server and client files in `dir` for a server known by `names` (addresses and host names). Idempotent:
 * files that will do are kept (`made: false`), so that running processes keep trusting them; otherwise all are made anew.
 */
export function ensureTlsCerts(dir: string, names: string[], days = 3650): { files: TlsFiles; made: boolean } {
  const files = tlsFilesIn(dir);
  if (!tlsFilesProblem(dir, names)) return { files, made: false };
  if (!existsSync(OPENSSL_BIN)) throw new Error(`${OPENSSL_BIN} is missing: install Debian's openssl ('apt-get install openssl')`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Made in a scratch folder and moved in, so that an interrupted run leaves the old set or the new one.
  const work = join(dir, `.new-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { mode: 0o700 });
  try {
    const made = tlsFilesIn(work);
    const ext = join(work, 'extensions.cnf');
    writeFileSync(ext, extensionsText(subjectAltNames(names)));
    const openssl = (...args: string[]) => execFileSync(OPENSSL_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: work });
    const key = (file: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file);
    const serial = () => `0x${execFileSync(OPENSSL_BIN, ['rand', '-hex', '16'], { encoding: 'utf8' }).trim()}`;
    const sign = (keyFile: string, subject: string, section: string, out: string) => {
      openssl('req', '-new', '-config', ext, '-key', keyFile, '-subj', subject, '-out', `${out}.csr`);
      openssl(
        'x509',
        '-req',
        '-in',
        `${out}.csr`,
        '-CA',
        made.ca,
        '-CAkey',
        made.caKey,
        '-set_serial',
        serial(),
        '-days',
        String(days),
        '-extfile',
        ext,
        '-extensions',
        section,
        '-out',
        out,
      );
    };
    key(made.caKey);
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      made.caKey,
      '-subj',
      '/CN=dr-runbooks lab CA',
      '-days',
      String(days),
      '-config',
      ext,
      '-extensions',
      'ca',
      '-out',
      made.ca,
    );
    const serverKey = join(work, 'server.key');
    key(serverKey);
    sign(serverKey, '/CN=temporal', 'server', join(work, 'server.crt'));
    writeFileSync(made.serverPem, readFileSync(join(work, 'server.crt'), 'utf8') + readFileSync(serverKey, 'utf8'), { mode: 0o600 });
    key(made.clientKey);
    sign(made.clientKey, '/CN=dr-runbooks lab client', 'client', made.clientCert);
    for (const f of Object.keys(files) as Array<keyof TlsFiles>) renameSync(made[f], files[f]);
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`openssl could not make the lab's TLS files in ${dir}: ${stderr || (err as Error).message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const problem = tlsFilesProblem(dir, names);
  if (problem) throw new Error(`the lab's TLS files in ${dir} were made but will not do: ${problem}`);
  return { files, made: true };
}
