// @ts-check
// The lib stack, enforced: each lib imports only the libs below it (README, "Architecture").
// Its own module so that a test can lint with these rules alone.
import tseslint from 'typescript-eslint';

/** What each lib may import; a lib not listed under another is above it or beside it. */
export const LAYERS = {
  domain: [],
  config: [],
  contracts: ['domain'],
  observability: ['config'],
  pipeline: ['domain', 'contracts'],
  // Adapters implement the ports in contracts; they never import the application layer.
  persistence: ['domain', 'contracts', 'config'],
  messaging: ['domain', 'contracts', 'config'],
  backfill: [
    'domain',
    'contracts',
    'pipeline',
    'persistence',
    'messaging',
    'config',
    'observability',
  ],
};

/** The libs that `lib` must not import: those not below it. */
const forbidden = (lib) =>
  Object.keys(LAYERS).filter((other) => other !== lib && !LAYERS[lib].includes(other));

export default Object.entries(LAYERS).map(([lib, allowed]) => ({
  files: [`libs/${lib}/**/*.ts`],
  languageOptions: { parser: tseslint.parser },
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...(forbidden(lib).length > 0
            ? [
                {
                  group: forbidden(lib).map((other) => `@assigner/${other}`),
                  message: `libs/${lib} may import only ${allowed.length > 0 ? allowed.map((a) => `@assigner/${a}`).join(', ') : 'no other lib'}: the libs stack downward (README, "Architecture").`,
                },
              ]
            : []),
          {
            group: ['**/apps/**', '**/libs/**'],
            message: 'libs import other libs by their @assigner/ name, and never an app.',
          },
        ],
      },
    ],
  },
}));
