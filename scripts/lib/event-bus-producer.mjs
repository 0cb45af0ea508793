// The Python environment of services/event-bus-producer/produce.py (Open edX's own event-bus
// producer, which the integration tests send enrollment events through): a venv in
// .cache/event-bus-producer, made with python3.11 (or a python3 that is 3.11 or newer) and
// installed from the pinned requirements.txt; redone whenever that file changes.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, note, onceFor, ROOT, run } from './project.mjs';

const DIR = join(CACHE, 'event-bus-producer');
const VENV = join(DIR, 'venv');
const STAMP = join(DIR, 'venv.installed');
const REQUIREMENTS = join(ROOT, 'services', 'event-bus-producer', 'requirements.txt');

/** The venv's interpreter; test/support/event-bus-producer.ts runs produce.py with it. */
const EVENT_BUS_PRODUCER_PYTHON = join(VENV, 'bin', 'python');

/** The first of python3.11 and python3 that runs and is 3.11 or newer, or null. */
function findPython() {
  for (const command of ['python3.11', 'python3']) {
    const probe = spawnSync(command, ['-c', 'import sys; print(sys.version_info >= (3, 11))'], {
      encoding: 'utf8',
    });
    if (probe.status === 0 && probe.stdout.startsWith('True')) return command;
  }
  return null;
}

/** Makes .cache/event-bus-producer/venv when it is missing or requirements.txt changed. */
export async function ensureEventBusProducer() {
  // A venv deleted (or whose interpreter went away) under an intact stamp is made again.
  if (!existsSync(EVENT_BUS_PRODUCER_PYTHON)) rmSync(STAMP, { force: true });
  await onceFor(STAMP, [REQUIREMENTS], async () => {
    const python = findPython();
    if (python === null)
      throw new Error(
        'the event-bus producer needs Python 3.11 or newer as python3.11 or python3; neither was found (install python3.11)',
      );
    note(`installing Open edX's event-bus producer into ${VENV} (first run only, ~30 s)`);
    // Whatever an interrupted earlier attempt left is thrown away, not patched up.
    rmSync(VENV, { recursive: true, force: true });
    const quiet = { stdio: ['ignore', process.stderr, 'inherit'] };
    try {
      await run(python, ['-m', 'venv', VENV], quiet);
      await run(
        EVENT_BUS_PRODUCER_PYTHON,
        [
          '-m',
          'pip',
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--no-input',
          '-r',
          REQUIREMENTS,
        ],
        quiet,
      );
    } catch (error) {
      rmSync(VENV, { recursive: true, force: true });
      throw error;
    }
  });
}
