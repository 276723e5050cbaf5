// HAProxy in the data path, against a real haproxy (Debian's 2.6) on loopback: three tiny TCP servers stand
// for the sites' databases and answer each connection with their own name, so a client sees where HAProxy
// sent it. The adapter fences, routes and restores the writer; the state survives a restart of HAProxy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, parseConfig } from '../../config/load';
import { fenceWriter, readServers, restoreServers, routeWriter, type HaproxyEndpoint, type HaproxyServer } from '../../activities/haproxy';
import { checkHaproxyConfig, HAPROXY_BIN, haproxyAdminOpen, haproxyConfigText, labHaproxySpec, type HaproxySpec } from '../../lab/haproxy';
import { alive, portOpen, readPid, startDaemon, stopDaemon, waitFor } from '../../lab/procs';
import { labOf } from '../../lab/settings';

if (!existsSync(HAPROXY_BIN)) {
  throw new Error(`${HAPROXY_BIN} is missing: install Debian's haproxy ('apt-get install haproxy'); this test needs a real one`);
}

const HOST = '127.0.0.1';
const SITES = ['tw', 'tw2', 'sg'] as const;
const work = mkdtempSync(join(tmpdir(), 'dr-haproxy-'));
const databases = new Map<string, Server>();
const served = new Set<Socket>();
const clients = new Set<Socket>();
let spec: HaproxySpec;
let endpoint: HaproxyEndpoint;
let firstReading: HaproxyServer[];

const taken = new Set<number>();

/** A free port of 40000–40999 on loopback, by trying to listen on it; never one handed out before. */
async function freePortInRange(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 40000 + Math.floor(Math.random() * 1000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, HOST, () => probe.close(() => resolve(true)));
    });
    if (free) return (taken.add(port), port);
  }
  throw new Error('no free port in 40000-40999 on 127.0.0.1');
}

/** A database stand-in: says its name to each client and keeps the connection open. */
function startDatabase(name: string, port: number): Promise<void> {
  const server = createServer((socket) => {
    served.add(socket);
    socket.on('close', () => served.delete(socket));
    socket.on('error', () => {});
    socket.write(`${name}\n`);
  });
  databases.set(name, server);
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, HOST, () => resolve()));
}

/** A client of HAProxy's listener: the name of the server it reached ('' when HAProxy closed it unserved), and its end. */
function connectClient(): Promise<{ server: string; socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port: spec.listen.port });
    clients.add(socket);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve({ server: text.trim(), socket, closed });
    });
    socket.once('close', () => resolve({ server: text.trim(), socket, closed }));
    socket.once('error', reject);
  });
}

async function reachedServer(): Promise<string> {
  const client = await connectClient();
  client.socket.destroy();
  return client.server;
}

const HAPROXY = 'haproxy-unit';
const dirs = { pids: join(work, 'pids'), logs: join(work, 'logs') };

async function startHaproxy(): Promise<void> {
  const file = join(work, 'haproxy.cfg');
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  writeFileSync(file, haproxyConfigText(spec));
  checkHaproxyConfig(file);
  startDaemon({ name: HAPROXY, command: HAPROXY_BIN, args: ['-db', '-f', file], pidsDir: dirs.pids, logsDir: dirs.logs });
  const rec = readPid(dirs.pids, HAPROXY);
  const log = join(dirs.logs, `${HAPROXY}.log`);
  await waitFor(
    'haproxy',
    async () => {
      if (!alive(rec)) throw new Error(`haproxy exited during start-up:\n${readFileSync(log, 'utf8')}`);
      return (await portOpen(spec.listen.port, HOST)) && (await haproxyAdminOpen(spec.admin));
    },
    30_000,
    log,
  );
}

const states = (servers: HaproxyServer[]) => Object.fromEntries(servers.map((server) => [server.name, server.admin]));

before(async () => {
  const ports = new Map<string, number>();
  for (const site of SITES) ports.set(site, await freePortInRange());
  for (const site of SITES) await startDatabase(site, ports.get(site)!);
  spec = {
    listen: { host: HOST, port: await freePortInRange() },
    admin: { host: HOST, port: await freePortInRange() },
    backend: 'writer',
    stateFile: join(work, 'haproxy.state'),
    servers: SITES.map((site) => ({ name: site, host: HOST, port: ports.get(site)!, ready: site === 'tw' })),
  };
  endpoint = { admin: spec.admin, backend: spec.backend, stateFile: spec.stateFile };
  await startHaproxy();
});

after(async () => {
  await stopDaemon(dirs.pids, HAPROXY, 'SIGTERM', 5000);
  for (const socket of [...clients, ...served]) socket.destroy();
  await Promise.all([...databases.values()].map((server) => new Promise<void>((done) => server.close(() => done()))));
  rmSync(work, { recursive: true, force: true });
});

test('reading the backend: the config primary is ready, the other sites in maint; new connections go to it', async () => {
  firstReading = await readServers(endpoint);
  assert.deepEqual(states(firstReading), { tw: 'ready', tw2: 'maint', sg: 'maint' });
  const tw = firstReading.find((server) => server.name === 'tw')!;
  assert.deepEqual([tw.address, tw.port, tw.operational], [HOST, spec.servers[0]!.port, 'running']);
  assert.equal(await reachedServer(), 'tw');
});

test('fenceWriter: the primary goes into maint and its established client is shut down; new connections reach nobody', async () => {
  const established = await connectClient();
  assert.equal(established.server, 'tw');
  const change = await fenceWriter(endpoint, { primary: 'tw' });
  assert.deepEqual(change.commands, ['set server writer/tw state maint', 'shutdown sessions server writer/tw']);
  assert.equal(states(change.before).tw, 'ready');
  assert.deepEqual(states(change.after), { tw: 'maint', tw2: 'maint', sg: 'maint' });
  await established.closed; // HAProxy ended the session: the client cannot keep writing to the old primary
  assert.equal(await reachedServer(), '');

  const again = await fenceWriter(endpoint, { primary: 'tw' });
  assert.deepEqual(again.commands, ['shutdown sessions server writer/tw'], 'a repeat changes no state, only makes sure no session is left');
  assert.deepEqual(states(again.after), states(change.after));
});

test('routeWriter: the new primary is ready, every other server in maint, and new connections reach it', async () => {
  const change = await routeWriter(endpoint, { newPrimary: 'tw2', oldPrimary: 'tw' });
  assert.deepEqual(states(change.after), { tw: 'maint', tw2: 'ready', sg: 'maint' });
  assert.ok(change.commands.includes('set server writer/tw2 state ready'));
  assert.equal(change.commands.at(-1), 'set server writer/tw2 state ready', 'the others are in maint before the new primary is ready');
  assert.equal(await reachedServer(), 'tw2');

  const again = await routeWriter(endpoint, { newPrimary: 'tw2', oldPrimary: 'tw' });
  assert.ok(!again.commands.some((command) => command.startsWith('set server')), `a repeat sets nothing: ${again.commands.join('; ')}`);
  assert.equal(await reachedServer(), 'tw2');
});

test('restoreServers: the first reading comes back, and the server it puts in maint loses its sessions', async () => {
  const established = await connectClient();
  assert.equal(established.server, 'tw2');
  const change = await restoreServers(endpoint, firstReading);
  assert.deepEqual(states(change.after), states(firstReading));
  await established.closed;
  assert.equal(await reachedServer(), 'tw');
  const again = await restoreServers(endpoint, firstReading);
  assert.deepEqual(states(again.after), states(firstReading));
});

test('the routing survives a crash and restart of HAProxy: the state file wins over haproxy.cfg', async () => {
  const change = await routeWriter(endpoint, { newPrimary: 'sg', oldPrimary: 'tw' });
  assert.equal(change.stateFile, spec.stateFile);
  assert.match(readFileSync(spec.stateFile!, 'utf8'), /^1\n# be_id /);
  await stopDaemon(dirs.pids, HAPROXY, 'SIGKILL');
  await startHaproxy(); // the same haproxy.cfg, where tw is the ready one
  assert.deepEqual(states(await readServers(endpoint)), { tw: 'maint', tw2: 'maint', sg: 'ready' });
  assert.equal(await reachedServer(), 'sg');
});

test('a bad backend or server name is refused with a clear error', async () => {
  await assert.rejects(
    fenceWriter(endpoint, { primary: 'nope' }),
    /fenceWriter writer\/nope: no server nope in backend writer of HAProxy at 127\.0\.0\.1:\d+ \(its servers: tw, tw2, sg\)/,
  );
  await assert.rejects(routeWriter(endpoint, { newPrimary: 'nope' }), /no server nope in backend writer/);
  await assert.rejects(readServers({ ...endpoint, backend: 'readers' }), /"show servers state readers" answered: Can't find backend\./);
  await assert.rejects(
    fenceWriter(endpoint, { primary: 'tw;disable frontend writer' }),
    /primary "tw;disable frontend writer" is not an HAProxy name/,
  );
  await assert.rejects(routeWriter(endpoint, { newPrimary: 'sg', oldPrimary: 'sg' }), /oldPrimary and newPrimary are the same server sg/);
  const nobody = await freePortInRange();
  await assert.rejects(
    readServers({ ...endpoint, admin: { host: HOST, port: nobody } }),
    new RegExp(`HAProxy runtime API at 127\\.0\\.0\\.1:${nobody}: "show servers state writer" failed: ECONNREFUSED`),
  );
  assert.deepEqual(states(await readServers(endpoint)), { tw: 'maint', tw2: 'maint', sg: 'ready' }, 'nothing changed');
});

test('the lab configs: a haproxy section per site, the primary ready, every site a server; HAProxy accepts the config', () => {
  for (const name of ['lab.yaml', 'lab-test.yaml']) {
    const file = join(__dirname, '..', '..', 'config', name);
    const loaded = parseConfig(readFileSync(file, 'utf8'), file);
    labOf(loaded); // the lab's own checks: the addresses are the sites'
    const tw = loaded.config.sites.find((site) => site.id === 'tw')!;
    const lab = labHaproxySpec(loaded, tw);
    assert.deepEqual(
      lab.servers.map((server) => [server.name, server.ready]),
      [
        ['tw', true],
        ['tw2', false],
        ['sg', false],
      ],
    );
    const text = haproxyConfigText(lab);
    assert.match(text, /load-server-state-from-file global/);
    const cfg = join(work, `lab-${name}.cfg`);
    writeFileSync(cfg, text);
    checkHaproxyConfig(cfg);
  }
});

test('a config whose haproxy servers name an unknown site is refused, naming the field', () => {
  const file = join(__dirname, '..', '..', 'config', 'lab-test.yaml');
  const document = parseDocument(readFileSync(file, 'utf8'));
  document.setIn(['sites', 1, 'haproxy', 'servers'], { tw: 'tw', hk: 'hk' });
  assert.throws(
    () => parseConfig(document.toString(), 'bad.yaml'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const problems = error.problems.filter((problem) => problem.includes('haproxy'));
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, /^bad\.yaml: sites\[1\]\.haproxy\.servers\.hk: unknown site 'hk' \(known sites: tw, tw2, sg\) \(line \d+\)$/);
      return true;
    },
  );
});

test('two sites cannot share one server of the backend', () => {
  const file = join(__dirname, '..', '..', 'config', 'lab-test.yaml');
  const document = parseDocument(readFileSync(file, 'utf8'));
  document.setIn(['sites', 0, 'haproxy', 'servers'], { tw: 'tw2' });
  assert.throws(
    () => parseConfig(document.toString(), 'bad.yaml'),
    /bad\.yaml: sites\[0\]\.haproxy\.servers\.tw: server 'tw2' is also site tw2's: each site needs its own/,
  );
});
