// Local Kafka (KRaft, from Maven jars) and FerretDB (SQLite, built from the Go module proxy),
// installed into .cache/ on first use and started on 127.0.0.1. Idempotent: a service that is
// already running and answering is reused, and left running by whoever did not start it.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { join } from 'node:path';
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
  };
}

/** The settings the apps and tests use to reach the local services. */
export function localServiceEnv() {
  const ports = localPorts();
  return {
    KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
    MONGO_URL: `mongodb://127.0.0.1:${ports.mongo}/`,
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
  ferretdb: {
    install: installFerretDb,
    port: () => localPorts().mongo,
    probe: () => mongoAnswers(localServiceEnv().MONGO_URL),
    timeoutMs: 30_000,
    async start() {
      return spawnService('ferretdb', FERRETDB_BIN, [
        '-listen-addr',
        `127.0.0.1:${localPorts().mongo}`,
        '-state-dir',
        join(CACHE, 'ferretdb', 'data'),
        '-log-level',
        'error',
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
  const results = await Promise.allSettled(
    Object.entries(SERVICES).map(async ([name, service]) => {
      await service.install();
      const running = recordedPid(name);
      if (running) {
        await waitUntil(name, running, service.timeoutMs, service.probe);
        note(`${name} already running (pid ${running}), reusing it`);
        return;
      }
      if (await portInUse(service.port())) {
        throw new Error(
          `${name}: port ${service.port()} on 127.0.0.1 is taken by another process; free it or set ${name === 'kafka' ? 'LOCAL_KAFKA_PORT' : 'LOCAL_MONGO_PORT'}`,
        );
      }
      const begun = Date.now();
      const pid = await service.start();
      started.push(name);
      await waitUntil(name, pid, service.timeoutMs, service.probe);
      note(
        `${name} ready on 127.0.0.1:${service.port()} in ${((Date.now() - begun) / 1000).toFixed(1)}s (pid ${pid})`,
      );
    }),
  );
  const failures = results.filter((result) => result.status === 'rejected');
  if (failures.length > 0) {
    await stopServices(started);
    throw new Error(failures.map((failure) => failure.reason.message).join('\n'));
  }
  return started;
}

/** SIGTERM, then SIGKILL after a grace period; waits until each process is gone. */
export async function stopServices(names = Object.keys(SERVICES)) {
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
  rmSync(join(CACHE, 'ferretdb', 'data'), { recursive: true, force: true });
}
