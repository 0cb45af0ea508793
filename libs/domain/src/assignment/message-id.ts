import { v5 as uuidv5 } from 'uuid';

/** Fixed namespace of this project's message ids (UUID v5 needs one). */
const MESSAGE_ID_NAMESPACE = '5b0c7d6e-3f41-4a8e-9a57-2d8f1c0e6b13';

export interface MessageIdParts {
  experiment: string;
  courseId: string | null;
  userId: number;
  bucket: number;
  version: number;
}

/**
 * The analytics messageId of one assignment state: a UUID v5 (36 characters) of the experiment,
 * course, user, bucket and change number. The same state always gets the same id, so the
 * worker, a replay and a republish agree, and downstream dedup drops repeats; a flip back to an
 * earlier bucket has a new change number and so a new id.
 */
export function messageIdOf(parts: MessageIdParts): string {
  return uuidv5(
    JSON.stringify([parts.experiment, parts.courseId, parts.userId, parts.bucket, parts.version]),
    MESSAGE_ID_NAMESPACE,
  );
}
