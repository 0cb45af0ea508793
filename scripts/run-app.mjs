// `npm run -s assigner -- ...`: builds (quietly, to stderr) and runs the CLI with its arguments.
// stdout belongs to the command's own output.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { build, ensureDependencies, ROOT } from './lib/project.mjs';

const [app, ...args] = process.argv.slice(2);
await ensureDependencies();
await build();
const child = spawn(
  process.execPath,
  ['--enable-source-maps', join(ROOT, 'dist', 'apps', app, 'src', 'main.js'), ...args],
  {
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
