/**
 * What the LMS knows of a learner that Open edX's events do not carry: whether they are staff or
 * a superuser (Django's `auth_user.is_staff` / `is_superuser`), as loaded from an LMS export. The
 * flag rules `staff` and `superusers` decide on them.
 */
export interface LearnerAttributes {
  userId: number;
  isStaff: boolean;
  isSuperuser: boolean;
}

/** The attributes of the learners an export names; everyone else is neither staff nor superuser. */
export interface LearnerAttributesLookup {
  of(userId: number): LearnerAttributes | undefined;
}

/** Attributes held in memory, by user id: simulate's, and the worker's copy of the store's. */
export class LearnerAttributesTable implements LearnerAttributesLookup {
  private readonly byUser: ReadonlyMap<number, LearnerAttributes>;

  constructor(attributes: Iterable<LearnerAttributes>) {
    this.byUser = new Map([...attributes].map((learner) => [learner.userId, learner]));
  }

  of(userId: number): LearnerAttributes | undefined {
    return this.byUser.get(userId);
  }

  get size(): number {
    return this.byUser.size;
  }
}
