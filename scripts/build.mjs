// `npm run build`: compiles apps, libs and benchmarks into dist/ (see scripts/lib/project.mjs).
import { build } from './lib/project.mjs';

await build();
