#!/usr/bin/env python3
"""The independent Kafka client of walbridge's tests and demo (confluent-kafka / librdkafka).

Reads every record currently in a topic -- each partition from its first offset up to the high
watermark read at start -- and prints one JSON object per record on stdout, in partition then offset
order:
    {"partition": 0, "offset": 0, "key": "<base64>|null", "value": "<base64>|null",
     "headers": [["name", "<base64>|null"], ...], "timestamp": 1700000000000}
With --text, key, value and header values are printed as UTF-8 text instead of base64; with --pretty,
each record is printed for people: its position, key, headers and the value as indented JSON.
With --avro URL, keys and values are Confluent-framed Avro, decoded with confluent-kafka's
AvroDeserializer against the schema registry at URL and printed (base64 or text) as JSON: decimals
as strings, bytes as base64, dates and times in ISO form. With --min N it waits (up to --timeout seconds) until the topic holds at least N records.
"""
import argparse
import base64
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition


def encode(data, text):
    if data is None:
        return None
    if text:
        return data.decode("utf-8", errors="replace")
    return base64.b64encode(data).decode("ascii")


def avro_decoder(url, topic):
    """A function from a key's or value's bytes to its decoded value as JSON bytes."""
    import datetime
    import decimal

    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    deserializer = AvroDeserializer(SchemaRegistryClient({"url": url}))

    def plain(value):
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
            return value.isoformat()
        raise TypeError(f"no JSON form for {type(value)}")

    def decode(data, field):
        if data is None:
            return None
        value = deserializer(data, SerializationContext(topic, field))
        return json.dumps(value, default=plain, ensure_ascii=False).encode()

    return lambda key, value: (decode(key, MessageField.KEY), decode(value, MessageField.VALUE))


def print_pretty(record):
    print(f"partition {record['partition']} offset {record['offset']}  key {record['key']}")
    for name, value in record["headers"]:
        print(f"  header {name}: {value}")
    if record["value"] is None:
        print("  value: null (tombstone)")
    else:
        print("  " + json.dumps(json.loads(record["value"]), indent=2, ensure_ascii=False).replace("\n", "\n  "))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--min", type=int, default=0, help="wait until at least this many records")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--text", action="store_true")
    parser.add_argument("--pretty", action="store_true")
    parser.add_argument("--avro", metavar="URL", help="decode Avro keys and values with this registry")
    args = parser.parse_args()
    decode = avro_decoder(args.avro, args.topic) if args.avro else lambda key, value: (key, value)

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": "walbridge-tests-reader",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        "fetch.wait.max.ms": 50,
        # noida-db ignores the fetch size limit and may answer with a whole large partition
        "receive.message.max.bytes": 2_000_000_000,
    })
    deadline = time.monotonic() + args.timeout
    try:
        while True:
            meta = consumer.list_topics(args.topic, timeout=10)
            topic = meta.topics.get(args.topic)
            if topic is not None and topic.error is None and topic.partitions:
                ends = {}
                for p in sorted(topic.partitions):
                    low, high = consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=10)
                    ends[p] = (low, high)
                if sum(high - low for low, high in ends.values()) >= args.min:
                    break
            if time.monotonic() > deadline:
                found = 0 if topic is None or topic.error else sum(h - l for l, h in ends.values())
                sys.exit(f"kafka_read: topic {args.topic} holds {found} records, expected at least {args.min} "
                         f"within {args.timeout}s")
            time.sleep(0.2)

        records = []
        for p, (low, high) in ends.items():
            if high <= low:
                continue
            consumer.assign([TopicPartition(args.topic, p, low)])
            offset = low
            while offset < high:
                if time.monotonic() > deadline + 60:
                    sys.exit(f"kafka_read: partition {p} stalled at offset {offset} of {high}")
                msg = consumer.poll(1.0)
                if msg is None:
                    continue
                if msg.error():
                    raise KafkaException(msg.error())
                if msg.offset() >= high:
                    break
                offset = msg.offset() + 1
                key, value = decode(msg.key(), msg.value())
                records.append({
                    "partition": msg.partition(),
                    "offset": msg.offset(),
                    "key": encode(key, args.text or args.pretty),
                    "value": encode(value, args.text or args.pretty),
                    "headers": [[k, encode(v, args.text or args.pretty)] for k, v in (msg.headers() or [])],
                    "timestamp": msg.timestamp()[1],
                })
        for record in records:
            if args.pretty:
                print_pretty(record)
            else:
                print(json.dumps(record, ensure_ascii=False))
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
