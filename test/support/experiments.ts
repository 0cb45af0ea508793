import { FLAG_RULE_DEFAULTS, type Experiment, type FlagRule } from '@assigner/domain';

export const flag = (rule: Partial<FlagRule> = {}): FlagRule => ({
  ...FLAG_RULE_DEFAULTS,
  ...rule,
});
export const ON = flag({ everyone: true });

/** An experiment with edx-platform's defaults, switched on for everyone. */
export function experiment(overrides: Partial<Experiment> = {}): Experiment {
  return {
    namespace: 'experiments',
    name: 'test',
    numBuckets: 2,
    courseAwareBucketing: true,
    scope: 'course',
    triggers: ['page_view'],
    flag: ON,
    bucketFlags: {},
    keyValues: {},
    ...overrides,
  };
}
