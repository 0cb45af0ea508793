// Some unit tests run the built apps as a user would (`node dist/...`): build once, first.
import { build } from '../../scripts/lib/project.mjs';

export default async function buildApps() {
  await build();
}
