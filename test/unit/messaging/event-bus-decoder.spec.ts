import type { InboundMessage } from '@assigner/contracts';
import { EventBusDecoder } from '@assigner/messaging';
import pino from 'pino';

const CREATED = 'org.openedx.learning.course.enrollment.created.v1';
const message = (value: string | Buffer, headers: Record<string, string> = {}): InboundMessage => ({
  value,
  headers,
  position: { source: 'lms-enrollment/0', offset: 1 },
});
const avroHeaders = { ce_type: CREATED, 'content-type': 'application/avro' };

// Without a registry: every answer that needs no writer schema.
const decoder = new EventBusDecoder({ logger: pino({ level: 'silent' }) });
const decodeOne = async (input: InboundMessage) => {
  const decoded = await decoder.decode([input], () => true);
  if (!decoded.ok) throw new Error('abandoned');
  return decoded.messages[0]!.decoded;
};

describe('the event-bus decoder, before any writer schema', () => {
  it('passes tracking-log and native lines through untouched', async () => {
    expect(await decodeOne(message('{"event_type": "/courses/x"}'))).toBeUndefined();
    expect(await decodeOne(message(Buffer.from('{"type": "x"}')))).toBeUndefined();
  });

  it('ignores other signals without asking a registry', async () => {
    const login = message(Buffer.from([0, 0, 0, 0, 9, 1]), {
      ce_type: 'org.openedx.learning.auth.session.login.completed.v1',
    });
    expect(await decodeOne(login)).toEqual({
      kind: 'event-bus',
      eventType: 'org.openedx.learning.auth.session.login.completed.v1',
      value: null,
    });
  });

  it.each([
    [
      'a bad magic byte',
      message(Buffer.from([1, 0, 0, 0, 9, 2]), avroHeaders),
      'bad magic byte 0x01: a Confluent-framed value starts with 0x00',
    ],
    [
      'a truncated header',
      message(Buffer.from([0, 0, 0]), avroHeaders),
      'truncated Confluent framing: 3 bytes, the header alone takes 5',
    ],
    [
      'the JSON CloudEvent form no Open edX producer sends',
      message('{"enrollment": {}}', { ce_type: CREATED }),
      `a ${CREATED} value that is not Confluent-framed Avro (content type unset)`,
    ],
    [
      'Avro with no registry configured',
      message(Buffer.from([0, 0, 0, 0, 9, 2]), avroHeaders),
      'a Confluent-framed Avro value, but SCHEMA_REGISTRY_URL is not set',
    ],
  ])('dead-letters %s with the reason', async (_, input, reason) => {
    expect(await decodeOne(input)).toEqual({ kind: 'undecodable', reason });
  });
});
