import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');

/** The messages ESLint gives, with the layer rules alone, for `code` as a file at `filePath`. */
function lintAs(filePath: string, code: string): string[] {
  const script = `
    import { ESLint } from 'eslint';
    import layers from './eslint.layers.mjs';
    const eslint = new ESLint({ overrideConfigFile: true, overrideConfig: layers });
    const [result] = await eslint.lintText(process.argv[1], { filePath: process.argv[2] });
    console.log(JSON.stringify(result.messages.map((m) => m.message)));
  `;
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', script, code, join(ROOT, filePath)],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as string[];
}

describe('the lib stack in npm run lint', () => {
  it('fails an adapter that imports upward, or an app', () => {
    expect(
      lintAs('libs/messaging/src/probe.ts', "import { BackfillRun } from '@assigner/backfill';"),
    ).toEqual([
      expect.stringMatching(
        /^'@assigner\/backfill' import is restricted .*libs\/messaging may import only @assigner\/domain, @assigner\/contracts, @assigner\/config/,
      ),
    ]);
    // Ports live in contracts: an adapter never imports the application layer.
    expect(
      lintAs(
        'libs/persistence/src/probe.ts',
        "import type { BatchResult } from '@assigner/pipeline';",
      ),
    ).toEqual([expect.stringContaining('libs/persistence may import only')]);
    expect(
      lintAs(
        'libs/domain/src/probe.ts',
        "import type { InboundMessage } from '@assigner/contracts';",
      ),
    ).toEqual([expect.stringContaining('libs/domain may import only no other lib')]);
    expect(
      lintAs('libs/pipeline/src/probe.ts', "import { main } from '../../../apps/worker/src/main';"),
    ).toEqual([expect.stringContaining('never an app')]);
  });

  it('lets a lib import the libs below it', () => {
    expect(
      lintAs(
        'libs/persistence/src/probe.ts',
        "import { parseIsoMicros } from '@assigner/domain';\nimport type { InboundMessage } from '@assigner/contracts';",
      ),
    ).toEqual([]);
  });
});
