#!/usr/bin/env python3
"""Decodes Avro bodies for the Avro differential test (tests/tests/it/differential.rs).

Each stdin line is `<Avro schema JSON>\t<hex of the body>` (the body after Confluent's 5-byte
framing); each stdout line is a JSON object {"head": N, "value": V}:
  head   the number of bytes before the envelope's processing times (`ts_ms`, `ts_us`, `ts_ns`
         when they are the record's last fields), which differ between two connectors by nature;
         the body's length when there are none
  value  the body decoded with the schema (logical types left as their Avro types), as JSON:
         bytes as base64, a float NaN or infinity as "NaN", "Infinity", "-Infinity" (as Debezium
         writes them in JSON)
A body that does not decode, or has bytes left over, is an error naming its line.
"""
import base64
import io
import json
import math
import os
import sys

import fastavro

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "env"))
from registry import without_logical_types  # noqa: E402 - the test registry's, beside it

PROCESSING_TIMES = ("ts_ms", "ts_us", "ts_ns")


def plain(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def read(schema, body):
    """The value `body` holds and how many of its bytes it took."""
    buffer = io.BytesIO(body)
    value = fastavro.schemaless_reader(buffer, fastavro.parse_schema(schema), None)
    return value, buffer.tell()


def main():
    for number, line in enumerate(sys.stdin, 1):
        schema_text, body_hex = line.rstrip("\n").split("\t")
        schema = without_logical_types(json.loads(schema_text))
        body = bytes.fromhex(body_hex)
        try:
            value, used = read(schema, body)
            if used != len(body):
                raise ValueError(f"{len(body) - used} bytes left over")
            head = len(body)
            if isinstance(schema, dict) and schema.get("type") == "record":
                names = [f["name"] for f in schema["fields"]]
                times = 0
                while times < len(names) and names[len(names) - 1 - times] in PROCESSING_TIMES:
                    times += 1
                if times:
                    _, head = read(dict(schema, fields=schema["fields"][:-times]), body)
        except Exception as err:  # noqa: BLE001 - the test prints which body
            sys.exit(f"avro_body: line {number}: {err!r}")
        print(json.dumps({"head": head, "value": plain(value)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
