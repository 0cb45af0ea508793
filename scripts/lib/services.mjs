// Local Kafka (KRaft, from Maven jars), FerretDB (built from the Go module proxy) and the Apicurio
// schema registry (from Maven Central) on a local PostgreSQL (the machine's server binaries,
// installed with apt-get when missing), installed into .cache/ on first use and started on
// 127.0.0.1. Idempotent: a service that is already running and answering is reused, and left
// running by whoever did not start it.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { CACHE, note, onceFor, ROOT, run } from './project.mjs';

const require = createRequire(import.meta.url);
const RUN_DIR = join(CACHE, 'run');
const LOG_DIR = join(CACHE, 'logs');

const port = (name, fallback) => {
  const value = process.env[name] ?? String(fallback);
  if (!/^\d{1,5}$/.test(value))
    throw new Error(`${name} must be a port number (got ${JSON.stringify(value)})`);
  return Number(value);
};

export function localPorts() {
  return {
    kafka: port('LOCAL_KAFKA_PORT', 19092),
    kafkaController: port('LOCAL_KAFKA_CONTROLLER_PORT', 19093),
    mongo: port('LOCAL_MONGO_PORT', 27018),
    postgres: port('LOCAL_POSTGRES_PORT', 27019),
    registry: port('LOCAL_REGISTRY_PORT', 18081),
  };
}

/** The settings the apps and tests use to reach the local services. */
export function localServiceEnv() {
  const ports = localPorts();
  return {
    KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
    MONGO_URL: `mongodb://127.0.0.1:${ports.mongo}/`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`,
  };
}

/** True when the user points the project at services of their own. */
export function externalServicesConfigured() {
  return Boolean(process.env.KAFKA_BROKERS && process.env.MONGO_URL);
}

// ---------------------------------------------------------------- installation

const KAFKA_DIR = join(CACHE, 'kafka');
const KAFKA_LIBS = join(KAFKA_DIR, 'libs');
const FERRETDB_SRC = join(ROOT, 'services', 'ferretdb');
const FERRETDB_BIN = join(CACHE, 'bin', 'ferretdb-local');
const POSTGRES_DIR = join(CACHE, 'postgres');
const POSTGRES_DATA = join(POSTGRES_DIR, 'data');
/** The PostgreSQL database FerretDB keeps every MongoDB database in (one schema each). */
const POSTGRES_DATABASE = 'ferretdb';
const GIN_TRIGGER_SQL = join(FERRETDB_SRC, 'postgresql-gin-indexes.sql');
/** The Apicurio Registry release to run: the one line of this file (the install's only input). */
const REGISTRY_VERSION_FILE = join(ROOT, 'services', 'registry', 'version');
const REGISTRY_DIR = join(CACHE, 'registry');
/** The PostgreSQL database the registry keeps its schemas in (so they outlive its restarts). */
const REGISTRY_DATABASE = 'apicurio';
const registryVersion = () => readFileSync(REGISTRY_VERSION_FILE, 'utf8').trim();
const registryJar = () =>
  join(REGISTRY_DIR, 'app', `apicurio-registry-app-${registryVersion()}-runner.jar`);

async function installKafka() {
  const pom = join(ROOT, 'services', 'kafka', 'pom.xml');
  await onceFor(join(KAFKA_DIR, 'libs.installed'), [pom], async () => {
    note('fetching Apache Kafka jars from Maven Central (first run only)');
    rmSync(KAFKA_LIBS, { recursive: true, force: true });
    await run(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pom,
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
        `-DoutputDirectory=${KAFKA_LIBS}`,
        '-DincludeScope=runtime',
      ],
      { stdio: ['ignore', process.stderr, 'inherit'] },
    );
  });
}

async function installFerretDb() {
  const inputs = ['go.mod', 'go.sum', 'main.go'].map((file) => join(FERRETDB_SRC, file));
  await onceFor(join(CACHE, 'bin', 'ferretdb-local.installed'), inputs, async () => {
    note('building FerretDB from the Go module proxy (first run only, a few minutes)');
    await run('go', ['build', '-trimpath', '-o', FERRETDB_BIN, '.'], {
      cwd: FERRETDB_SRC,
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: ['ignore', process.stderr, 'inherit'],
    });
  });
}

async function installRegistry() {
  await onceFor(join(REGISTRY_DIR, 'app.installed'), [REGISTRY_VERSION_FILE], async () => {
    const version = registryVersion();
    note(`fetching Apicurio Registry ${version} from Maven Central (first run only, ~110 MB)`);
    const app = join(REGISTRY_DIR, 'app');
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    // The 2.x copy goal fetches the archive alone: 3.x reads the artifact's POM first, whose
    // parent POM (io.apicurio:apicurio-registry:3.0.9) is not on Maven Central, and fails.
    await run(
      'mvn',
      [
        '-q',
        '-B',
        'org.apache.maven.plugins:maven-dependency-plugin:2.10:copy',
        `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
        `-DoutputDirectory=${REGISTRY_DIR}`,
      ],
      { cwd: REGISTRY_DIR, stdio: ['ignore', process.stderr, 'inherit'] },
    );
    // The runner jar and its lib/, at the archive's top level.
    const archive = join(REGISTRY_DIR, `apicurio-registry-app-${version}-all.tar.gz`);
    await run('tar', ['-xzf', archive, '-C', app], { stdio: ['ignore', 'ignore', 'inherit'] });
    rmSync(archive);
  });
}

// ---------------------------------------------------------------- PostgreSQL

/** The PostgreSQL role FerretDB connects as (local trust authentication, 127.0.0.1 only). */
const POSTGRES_SUPERUSER = 'postgres';
/** PostgreSQL refuses to run as root: as root, its processes run as this system user. */
const POSTGRES_OS_USER = 'postgres';
const asRoot = () => process.getuid?.() === 0;

/** The newest PostgreSQL server binaries on the machine (Debian's layout), or LOCAL_POSTGRES_BIN. */
function postgresBin() {
  if (process.env.LOCAL_POSTGRES_BIN) return process.env.LOCAL_POSTGRES_BIN;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((version) => existsSync(join(base, version, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0], 'bin') : undefined;
}

async function installPostgres() {
  if (postgresBin()) return;
  if (!asRoot())
    throw new Error(
      'postgres: no PostgreSQL server binaries (looked in /usr/lib/postgresql/*/bin): install the postgresql package, or set LOCAL_POSTGRES_BIN',
    );
  note('installing PostgreSQL with apt-get (first run on this machine only)');
  await run('apt-get', ['update', '-q'], { stdio: ['ignore', process.stderr, 'inherit'] });
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], {
    stdio: ['ignore', process.stderr, 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!postgresBin()) throw new Error('postgres: apt-get installed no server binaries');
}

/** uid and gid of the system user PostgreSQL runs as when we are root; made when missing. */
function postgresOsUser() {
  const id = (flag) => spawnSync('id', [flag, POSTGRES_OS_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0)
    spawnSync('useradd', ['--system', '--no-create-home', POSTGRES_OS_USER], { stdio: 'ignore' });
  const uid = Number(id('-u').stdout);
  const gid = Number(id('-g').stdout);
  if (!Number.isInteger(uid) || uid <= 0)
    throw new Error(`postgres: could not find or create the system user ${POSTGRES_OS_USER}`);
  return { uid, gid };
}

/** A PostgreSQL program, as the PostgreSQL system user when we are root. */
function postgresCommand(program, args) {
  const path = join(postgresBin(), program);
  if (!asRoot()) return [path, args];
  const { uid, gid } = postgresOsUser();
  return ['setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', path, ...args]];
}

/**
 * Gives the PostgreSQL system user the data directory, and the right to pass through the folders
 * above it (a clone in a private temporary folder has none): only the search bit is added.
 */
function handDataDirToPostgres() {
  mkdirSync(POSTGRES_DATA, { recursive: true, mode: 0o700 });
  if (!asRoot()) return;
  const { uid, gid } = postgresOsUser();
  chownSync(POSTGRES_DIR, uid, gid);
  chownSync(POSTGRES_DATA, uid, gid);
  chmodSync(POSTGRES_DATA, 0o700);
  for (let folder = dirname(POSTGRES_DIR); ; folder = dirname(folder)) {
    const { mode } = statSync(folder);
    if ((mode & 0o001) === 0) chmodSync(folder, (mode & 0o7777) | 0o001);
    if (dirname(folder) === folder) break;
  }
}

async function startPostgres() {
  handDataDirToPostgres();
  if (!existsSync(join(POSTGRES_DATA, 'PG_VERSION'))) {
    const [command, args] = postgresCommand('initdb', [
      '-D',
      POSTGRES_DATA,
      '-U',
      POSTGRES_SUPERUSER,
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    await run(command, args, { stdio: ['ignore', 'ignore', process.stderr] });
  }
  const [command, args] = postgresCommand('postgres', [
    '-D',
    POSTGRES_DATA,
    '-h',
    '127.0.0.1',
    '-p',
    String(localPorts().postgres),
    // TCP only: a socket path under a deep clone can exceed the 107 bytes Unix sockets allow.
    '-c',
    'unix_socket_directories=',
    // A development store: a crash of PostgreSQL loses nothing without fsync, only one of the OS.
    '-c',
    'fsync=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'shared_buffers=256MB',
    '-c',
    'max_connections=200',
    // FerretDB binds the field name of each filter as a parameter (`_jsonb->$1 @> $2`): only a
    // plan made for the actual values matches the expression indexes.
    '-c',
    'plan_cache_mode=force_custom_plan',
    // Fresh tables (each test's and bench's database) have no statistics until autovacuum
    // analyzes them, and until then the planner scans them instead of using their indexes: the
    // default one-minute nap made a new store's first minute several times slower.
    '-c',
    'autovacuum_naptime=2s',
    '-c',
    'log_min_messages=warning',
  ]);
  return spawnService('postgres', command, args);
}

function psql(args) {
  const result = spawnSync(
    join(postgresBin(), 'psql'),
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      '127.0.0.1',
      '-p',
      String(localPorts().postgres),
      '-U',
      POSTGRES_SUPERUSER,
      ...args,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(
      `psql ${args.join(' ')}: ${(result.stderr || result.error?.message || '').trim()}`,
    );
  return result.stdout;
}

async function postgresAnswers() {
  psql(['-d', 'postgres', '-c', 'SELECT 1']);
}

function createDatabase(name) {
  const exists = psql([
    '-d',
    'postgres',
    '-tA',
    '-c',
    `SELECT 1 FROM pg_database WHERE datname = '${name}'`,
  ]);
  if (exists.trim() !== '1') psql(['-d', 'postgres', '-c', `CREATE DATABASE ${name}`]);
}

function preparePostgres() {
  createDatabase(POSTGRES_DATABASE);
  psql(['-d', POSTGRES_DATABASE, '-c', 'SET client_min_messages = warning', '-f', GIN_TRIGGER_SQL]);
}

// ---------------------------------------------------------------- process bookkeeping

const pidFile = (name) => join(RUN_DIR, `${name}.pid`);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function recordedPid(name) {
  const path = pidFile(name);
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8'));
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

function portInUse(portNumber) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: portNumber });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a service in its own process group, so a terminal's Ctrl-C reaches our scripts first. */
function spawnService(name, command, args) {
  mkdirSync(RUN_DIR, { recursive: true });
  mkdirSync(LOG_DIR, { recursive: true });
  const log = openSync(join(LOG_DIR, `${name}.log`), 'a');
  const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile(name), String(child.pid));
  return child.pid;
}

function logTail(name) {
  const path = join(LOG_DIR, `${name}.log`);
  return existsSync(path)
    ? readFileSync(path, 'utf8').split('\n').slice(-30).join('\n')
    : '(no log)';
}

async function waitUntil(name, pid, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (!alive(pid))
      throw new Error(`${name} exited during start; last log lines:\n${logTail(name)}`);
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(
    `${name} did not answer within ${timeoutMs / 1000}s (${lastError?.message}); log: ${join(LOG_DIR, `${name}.log`)}`,
  );
}

// ---------------------------------------------------------------- readiness probes

/** A metadata round trip: the broker is up, has a controller and serves clients. */
async function kafkaAnswers(brokers) {
  const { Kafka, logLevel } = require(join(ROOT, 'node_modules', 'kafkajs'));
  const admin = new Kafka({
    clientId: 'assigner-services',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.controller === null || cluster.controller < 0) throw new Error('no controller yet');
  } finally {
    await admin.disconnect();
  }
}

/** The Confluent-compatible API lists subjects: the registry is up and reads its storage. */
async function registryAnswers(url) {
  const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET ${url}/subjects: ${response.status}`);
}

async function mongoAnswers(url) {
  const { MongoClient } = require(join(ROOT, 'node_modules', 'mongodb'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000 });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------- services

const SERVICES = {
  kafka: {
    install: installKafka,
    port: () => localPorts().kafka,
    portSetting: 'LOCAL_KAFKA_PORT',
    probe: () => kafkaAnswers([localServiceEnv().KAFKA_BROKERS]),
    timeoutMs: 120_000,
    async start() {
      const ports = localPorts();
      const dataDir = join(KAFKA_DIR, 'data');
      const properties = join(KAFKA_DIR, 'server.properties');
      const template = readFileSync(
        join(ROOT, 'services', 'kafka', 'server.properties.template'),
        'utf8',
      );
      writeFileSync(
        properties,
        template
          .replaceAll('@PORT@', String(ports.kafka))
          .replaceAll('@CONTROLLER_PORT@', String(ports.kafkaController))
          .replaceAll('@DATA_DIR@', dataDir),
      );
      // Serial GC starts faster and is plenty for one small broker.
      const java = [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseSerialGC',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${join(ROOT, 'services', 'kafka', 'log4j.properties')}`,
        '-cp',
        `${KAFKA_LIBS}/*`,
      ];
      if (!existsSync(join(dataDir, 'kraft-logs', 'meta.properties'))) {
        await run(
          'java',
          [...java, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties],
          {
            stdio: ['ignore', 'ignore', process.stderr],
          },
        );
      }
      return spawnService('kafka', 'java', [...java, 'kafka.Kafka', properties]);
    },
  },
  postgres: {
    install: installPostgres,
    port: () => localPorts().postgres,
    portSetting: 'LOCAL_POSTGRES_PORT',
    probe: () => postgresAnswers(),
    timeoutMs: 60_000,
    start: startPostgres,
    // Once it answers: the database FerretDB uses, with the trigger that makes its indexes usable.
    ready: preparePostgres,
  },
  ferretdb: {
    install: installFerretDb,
    after: 'postgres',
    port: () => localPorts().mongo,
    portSetting: 'LOCAL_MONGO_PORT',
    probe: () => mongoAnswers(localServiceEnv().MONGO_URL),
    timeoutMs: 30_000,
    async start() {
      // pgx's pool defaults to 4 connections, and FerretDB's update holds one open (its query's
      // rows) while it takes another: as many updates at once as the pool has connections
      // deadlock it. So a pool well above what the apps run at once (PostgreSQL allows 200).
      const url = `postgres://${POSTGRES_SUPERUSER}@127.0.0.1:${localPorts().postgres}/${POSTGRES_DATABASE}?pool_max_conns=150`;
      return spawnService('ferretdb', FERRETDB_BIN, [
        '-listen-addr',
        `127.0.0.1:${localPorts().mongo}`,
        '-postgresql-url',
        url,
        '-log-level',
        'error',
      ]);
    },
  },
  registry: {
    install: installRegistry,
    after: 'postgres',
    port: () => localPorts().registry,
    portSetting: 'LOCAL_REGISTRY_PORT',
    probe: () => registryAnswers(localServiceEnv().SCHEMA_REGISTRY_URL),
    timeoutMs: 90_000,
    start() {
      // SQL storage on the local PostgreSQL: the default in-memory H2 would lose every schema
      // at each restart of the registry, and the tests restart it.
      createDatabase(REGISTRY_DATABASE);
      const ports = localPorts();
      return spawnService('registry', 'java', [
        '-Xmx256m',
        '-XX:+UseSerialGC',
        `-Dquarkus.http.port=${ports.registry}`,
        '-Dquarkus.http.host=127.0.0.1',
        // A schema registered again in another layout keeps its id, as on Confluent's registry.
        '-Dapicurio.ccompat.use-canonical-hash=true',
        '-Dapicurio.storage.kind=sql',
        '-Dapicurio.storage.sql.kind=postgresql',
        `-Dapicurio.datasource.url=jdbc:postgresql://127.0.0.1:${ports.postgres}/${REGISTRY_DATABASE}`,
        // No password: trust authentication ignores the one the registry sends by default.
        `-Dapicurio.datasource.username=${POSTGRES_SUPERUSER}`,
        // Its pool defaults to 20 to 100 connections; PostgreSQL allows 200, most for FerretDB.
        '-Dapicurio.datasource.jdbc.initial-size=2',
        '-Dapicurio.datasource.jdbc.min-size=2',
        '-Dapicurio.datasource.jdbc.max-size=20',
        '-jar',
        registryJar(),
      ]);
    },
  },
};

/** A random KRaft cluster id (22 chars of url-safe base64 of 16 bytes), made once per data dir. */
function clusterId() {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
}

/**
 * Installs what is missing and starts what is not running, in parallel. Resolves with the names
 * of the services this call started (the caller stops exactly those).
 */
export async function startServices() {
  const started = [];
  const up = {};
  const bringUp = async (name, service) => {
    await service.install();
    if (service.after)
      await up[service.after].catch(() => {
        throw new Error(`${name}: not started, as ${service.after} did not start`);
      });
    const running = recordedPid(name);
    if (running) {
      await waitUntil(name, running, service.timeoutMs, service.probe);
      await service.ready?.();
      note(`${name} already running (pid ${running}), reusing it`);
      return;
    }
    if (await portInUse(service.port())) {
      throw new Error(
        `${name}: port ${service.port()} on 127.0.0.1 is taken by another process; free it or set ${service.portSetting}`,
      );
    }
    const begun = Date.now();
    const pid = await service.start();
    started.push(name);
    await waitUntil(name, pid, service.timeoutMs, service.probe);
    await service.ready?.();
    note(
      `${name} ready on 127.0.0.1:${service.port()} in ${((Date.now() - begun) / 1000).toFixed(1)}s (pid ${pid})`,
    );
  };
  for (const [name, service] of Object.entries(SERVICES)) up[name] = bringUp(name, service);
  const results = await Promise.allSettled(Object.values(up));
  const failures = results.filter((result) => result.status === 'rejected');
  if (failures.length > 0) {
    await stopServices(started);
    throw new Error(failures.map((failure) => failure.reason.message).join('\n'));
  }
  return started;
}

/** SIGTERM, then SIGKILL after a grace period; waits until each process is gone. */
export async function stopServices(names = Object.keys(SERVICES)) {
  // FerretDB and the registry before the PostgreSQL they write to.
  const stopFirst = names.filter((name) => SERVICES[name]?.after);
  await stopEach(stopFirst);
  await stopEach(names.filter((name) => !stopFirst.includes(name)));
}

async function stopEach(names) {
  await Promise.all(
    names.map(async (name) => {
      const pid = recordedPid(name);
      if (pid) {
        process.kill(-pid, 'SIGTERM');
        const deadline = Date.now() + 30_000;
        while (alive(pid) && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 100));
        if (alive(pid)) process.kill(-pid, 'SIGKILL');
        note(`${name} stopped`);
      }
      rmSync(pidFile(name), { force: true });
    }),
  );
}

export async function serviceStatus() {
  const lines = [];
  for (const [name, service] of Object.entries(SERVICES)) {
    const pid = recordedPid(name);
    let state = 'stopped';
    if (pid) {
      state = await service.probe().then(
        () => 'ready',
        (error) => `starting or unhealthy (${error.message})`,
      );
    }
    lines.push(`${name}: ${state}${pid ? ` (pid ${pid}, 127.0.0.1:${service.port()})` : ''}`);
  }
  return lines;
}

/** Removes the services' data (not the installed jars and binary). Services must be stopped. */
export function resetServiceData() {
  for (const name of Object.keys(SERVICES)) {
    if (recordedPid(name)) throw new Error(`${name} is running; stop it first`);
  }
  rmSync(join(KAFKA_DIR, 'data'), { recursive: true, force: true });
  rmSync(POSTGRES_DATA, { recursive: true, force: true });
}
