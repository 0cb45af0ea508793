"""Send Open edX enrollment events to Kafka through Open edX's own event-bus producer.

The events go the way the LMS sends them: ``SIGNAL.send_event(enrollment=CourseEnrollmentData(...))``
on an ``OpenEdxPublicSignal``, which openedx-events' ``general_signal_handler`` (connected by its
app's ``ready()`` from ``EVENT_BUS_PRODUCER_CONFIG``) hands to ``edx_event_bus_kafka``'s
``KafkaEventProducer``. That one serialises key and value with Avro through the schema registry
(subjects by TopicRecordNameStrategy), sets the CloudEvents headers and produces to
``<EVENT_BUS_TOPIC_PREFIX>-<base topic>``.

Input: one JSON object per line on stdin::

    {"signal": "created"|"changed"|"unenrolled", "user_id": 7, "username": "ada",
     "email": "ada@example.com", "name": "Ada L", "course_key": "course-v1:Org+C+R",
     "course_name": "Course", "mode": "audit", "is_active": true,
     "creation_date": "2024-03-01T12:00:00+00:00"}

(``user_is_active``, the account's flag as against the enrollment's ``is_active``, may be given
too; it defaults to true.)

Output: one JSON line on stdout at the end, ``{"delivered": N, "failed": M}``; exit status 1 when
an event failed or fewer were delivered than read (the producer's ``send()`` never raises: its
errors only reach the log and the delivery callback, which is why they are counted here). Logs
go to stderr. The topics must exist already.
"""

import argparse
import json
import logging
import os
import sys
import threading
from datetime import datetime

EVENT_TYPES = {
    "created": "org.openedx.learning.course.enrollment.created.v1",
    "changed": "org.openedx.learning.course.enrollment.changed.v1",
    "unenrolled": "org.openedx.learning.course.unenrollment.completed.v1",
}
# The key field openedx-events documents for all three enrollment signals.
EVENT_KEY_FIELD = "enrollment.course.course_key"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("KAFKA_BROKERS"),
        help="Kafka bootstrap servers (env EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS, else KAFKA_BROKERS)",
    )
    parser.add_argument(
        "--schema-registry-url",
        default=os.environ.get("EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL"),
        help="Confluent-compatible schema registry URL (env EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=os.environ.get("EVENT_BUS_TOPIC_PREFIX"),
        help="EVENT_BUS_TOPIC_PREFIX: the full topic is <prefix>-<base topic> (env EVENT_BUS_TOPIC_PREFIX)",
    )
    parser.add_argument(
        "--topic",
        default=os.environ.get("EVENT_BUS_BASE_TOPIC", "enrollment"),
        help="base topic of all three signals (env EVENT_BUS_BASE_TOPIC; default: enrollment)",
    )
    for signal in EVENT_TYPES:
        parser.add_argument(f"--topic-{signal}", help=f"base topic of '{signal}' events (default: --topic)")
    args = parser.parse_args()
    if not args.bootstrap_servers:
        parser.error("no bootstrap servers (--bootstrap-servers or EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS)")
    if not args.schema_registry_url:
        parser.error("no schema registry (--schema-registry-url or EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL)")
    return args


def configure_django(args):
    """Settings as an LMS would have them, set before anything imports edx_event_bus_kafka."""
    from django.conf import settings

    base_topics = {signal: getattr(args, f"topic_{signal}") or args.topic for signal in EVENT_TYPES}
    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        TIME_ZONE="UTC",
        INSTALLED_APPS=["openedx_events"],
        EVENTS_SERVICE_NAME="lms",
        EVENT_BUS_PRODUCER="edx_event_bus_kafka.create_producer",
        EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS=args.bootstrap_servers,
        EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL=args.schema_registry_url,
        EVENT_BUS_TOPIC_PREFIX=args.topic_prefix or None,
        EVENT_BUS_PRODUCER_CONFIG={
            EVENT_TYPES[signal]: {base_topics[signal]: {"event_key_field": EVENT_KEY_FIELD, "enabled": True}}
            for signal in EVENT_TYPES
        },
        # Keep stderr readable; errors and warnings still show.
        LOGGING_CONFIG=None,
    )
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    import django

    django.setup()  # runs openedx_events' ready(): connects the signals named in EVENT_BUS_PRODUCER_CONFIG


class DeliveryCounter:
    """Counts what the producer reports: successes from its delivery callback, failures from the
    one function it sends every error to (failed serialisation or produce, failed delivery)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.delivered = 0
        self.failed = 0

    def install(self):
        from edx_event_bus_kafka.internal import producer as kafka_producer

        counter = self
        original_on_event_deliver = kafka_producer.ProducingContext.on_event_deliver
        original_record_producing_error = kafka_producer.record_producing_error

        def on_event_deliver(context, err, evt):
            if err is None:
                with counter.lock:
                    counter.delivered += 1
            return original_on_event_deliver(context, err, evt)

        def record_producing_error(error, context):
            with counter.lock:
                counter.failed += 1
            return original_record_producing_error(error, context)

        kafka_producer.ProducingContext.on_event_deliver = on_event_deliver
        kafka_producer.record_producing_error = record_producing_error

    def add_failure(self):
        with self.lock:
            self.failed += 1


def enrollment_data(event):
    from opaque_keys.edx.keys import CourseKey
    from openedx_events.learning.data import CourseData, CourseEnrollmentData, UserData, UserPersonalData

    creation_date = datetime.fromisoformat(event["creation_date"])
    if creation_date.tzinfo is None:
        raise ValueError(f"creation_date needs a UTC offset: {event['creation_date']!r}")
    # The same fields edx-platform's CourseEnrollment fills in (no created_by, no course start/end).
    return CourseEnrollmentData(
        user=UserData(
            id=int(event["user_id"]),
            is_active=bool(event.get("user_is_active", True)),
            pii=UserPersonalData(username=event["username"], email=event["email"], name=event["name"]),
        ),
        course=CourseData(
            course_key=CourseKey.from_string(event["course_key"]),
            display_name=event["course_name"],
        ),
        mode=event["mode"],
        is_active=bool(event["is_active"]),
        creation_date=creation_date,
    )


def main():
    args = parse_args()
    configure_django(args)

    from edx_event_bus_kafka.internal.producer import KafkaEventProducer
    from openedx_events.event_bus import get_producer
    from openedx_events.learning.signals import (
        COURSE_ENROLLMENT_CHANGED,
        COURSE_ENROLLMENT_CREATED,
        COURSE_UNENROLLMENT_COMPLETED,
    )

    signals = {
        "created": COURSE_ENROLLMENT_CREATED,
        "changed": COURSE_ENROLLMENT_CHANGED,
        "unenrolled": COURSE_UNENROLLMENT_COMPLETED,
    }
    counter = DeliveryCounter()
    counter.install()

    # openedx-events falls back to a producer that drops everything when loading fails (missing
    # confluent_kafka.schema_registry, bad settings); make that loud instead.
    producer = get_producer()
    if not isinstance(producer, KafkaEventProducer):
        print(f"event bus producer did not load (got {type(producer).__name__}); see warnings above", file=sys.stderr)
        return 2

    read = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        read += 1
        try:
            event = json.loads(line)
            signal = signals[event["signal"]]
            enrollment = enrollment_data(event)
        except (ValueError, KeyError, TypeError) as error:
            print(f"line {number}: bad event ({error!r}): {line.strip()[:200]}", file=sys.stderr)
            counter.add_failure()
            continue
        # send_robust (the default): a receiver's exception comes back in the responses, not raised.
        for receiver, response in signal.send_event(enrollment=enrollment):
            if isinstance(response, BaseException):
                print(f"line {number}: receiver {receiver!r} raised {response!r}", file=sys.stderr)
                counter.add_failure()

    producer.prepare_for_shutdown()  # flush(-1): waits for every delivery report

    with counter.lock:
        delivered, failed = counter.delivered, counter.failed
    print(json.dumps({"delivered": delivered, "failed": failed}), flush=True)
    return 1 if failed > 0 or delivered != read else 0


if __name__ == "__main__":
    sys.exit(main())
