"""A small schema registry speaking Confluent's REST API, for the tests (tests/env/up starts it).

    python registry.py PORT [--user-info USER:PASSWORD] [--tls CERT KEY]

With --user-info every request needs HTTP basic authentication with them (else 401); with --tls it
serves HTTPS with that certificate and key (PEM files).

What walbridge's AvroConverter and confluent-kafka's AvroDeserializer use: register a schema under
a subject (POST /subjects/S/versions), look it up (POST /subjects/S), read it by id
(GET /schemas/ids/ID), list subjects and versions, and the compatibility level (GET/PUT /config
and /config/S; BACKWARD by default, as Confluent's). Schemas are checked to be Avro with fastavro;
ids are global, one per distinct schema text. Compatibility is checked for BACKWARD, FORWARD and FULL
(and their _TRANSITIVE forms) with the rules that matter for records: a reader's field missing from
the writer needs a default, a field's type must match or be one Avro promotes. In memory: state
lasts while the process runs.
"""

import base64
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import fastavro

LOCK = threading.Lock()
SCHEMAS = []  # id - 1 -> schema text
IDS = {}  # normalized text -> id
SUBJECTS = {}  # subject -> [id, ...] (version - 1 -> id)
CONFIG = {"": "BACKWARD"}  # subject ("" global) -> level
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


def normalized(text):
    return json.dumps(json.loads(text), separators=(",", ":"))


def without_logical_types(schema):
    if isinstance(schema, list):
        return [without_logical_types(s) for s in schema]
    if isinstance(schema, dict):
        return {k: without_logical_types(v) for k, v in schema.items() if k != "logicalType"}
    return schema


def check(schema):
    """Raises when `schema` is not Avro. An invalid logical type is not an error: Avro's Java
    parser, which Confluent's registry uses, ignores it (Debezium writes a `numeric(5,-2)` column
    as a decimal of scale 2046 and precision 5, which Confluent's registry takes)."""
    try:
        fastavro.parse_schema(schema)
    except Exception:  # noqa: BLE001 - the check below says whether it was only a logical type
        fastavro.parse_schema(without_logical_types(schema))


def error(status, code, message):
    return status, {"error_code": code, "message": message}


PROMOTIONS = {
    ("int", "long"), ("int", "float"), ("int", "double"), ("long", "float"), ("long", "double"),
    ("float", "double"), ("string", "bytes"), ("bytes", "string"),
}


def can_read(reader, writer, names_r, names_w):
    """Whether data written with `writer` can be read with `reader` (both parsed JSON)."""
    def resolve(schema, names):
        if isinstance(schema, str) and schema in names:
            return names[schema]
        return schema

    reader, writer = resolve(reader, names_r), resolve(writer, names_w)
    if isinstance(writer, list):
        return all(can_read(reader, w, names_r, names_w) for w in writer)
    if isinstance(reader, list):
        return any(can_read(r, writer, names_r, names_w) for r in reader)
    tr = reader if isinstance(reader, str) else reader.get("type")
    tw = writer if isinstance(writer, str) else writer.get("type")
    if isinstance(tr, (dict, list)):
        return can_read(tr, writer, names_r, names_w)
    if isinstance(tw, (dict, list)):
        return can_read(reader, tw, names_r, names_w)
    if tr != tw:
        return (tw, tr) in PROMOTIONS
    if tr == "record":
        register(reader, names_r)
        register(writer, names_w)
        written = {f["name"]: f for f in writer["fields"]}
        for field in reader["fields"]:
            if field["name"] in written:
                if not can_read(field["type"], written[field["name"]]["type"], names_r, names_w):
                    return False
            elif "default" not in field:
                return False
        return True
    if tr == "array":
        return can_read(reader["items"], writer["items"], names_r, names_w)
    if tr == "map":
        return can_read(reader["values"], writer["values"], names_r, names_w)
    return True


def register(schema, names):
    """Records every named type in `schema` by its short and full names, for references."""
    if isinstance(schema, list):
        for s in schema:
            register(s, names)
    elif isinstance(schema, dict):
        if schema.get("type") == "record" and "name" in schema:
            names.setdefault(schema["name"], schema)
            if "namespace" in schema:
                names.setdefault(schema["namespace"] + "." + schema["name"], schema)
            for field in schema.get("fields", []):
                register(field["type"], names)
        else:
            for key in ("items", "values", "type"):
                if key in schema:
                    register(schema[key], names)


def compatible(level, new, olds):
    if level == "NONE" or not olds:
        return True
    checked = olds if level.endswith("_TRANSITIVE") else olds[-1:]
    base = level.replace("_TRANSITIVE", "")
    new = json.loads(new)
    for old in checked:
        old = json.loads(old)
        nr, nw, orr, ow = {}, {}, {}, {}
        register(new, nr)
        register(old, ow)
        register(new, nw)
        register(old, orr)
        if base in ("BACKWARD", "FULL") and not can_read(new, old, nr, ow):
            return False
        if base in ("FORWARD", "FULL") and not can_read(old, new, orr, nw):
            return False
    return True


def level_of(subject):
    return CONFIG.get(subject, CONFIG[""])


def handle(method, path, body):
    parts = [p for p in path.split("?")[0].split("/") if p]
    with LOCK:
        if parts == ["subjects"] and method == "GET":
            return 200, sorted(SUBJECTS)
        if len(parts) >= 2 and parts[0] == "subjects":
            subject = parts[1]
            if len(parts) == 3 and parts[2] == "versions" and method == "POST":
                text = body.get("schema", "")
                try:
                    check(json.loads(text))
                except Exception as err:  # noqa: BLE001 - the registry's answer names it
                    return error(422, 42201, f"Invalid schema: {err}")
                key = normalized(text)
                versions = SUBJECTS.setdefault(subject, [])
                if key in IDS and IDS[key] in versions:
                    return 200, {"id": IDS[key]}
                level = level_of(subject)
                if not compatible(level, text, [SCHEMAS[i - 1] for i in versions]):
                    if not versions:
                        del SUBJECTS[subject]
                    return error(409, 409, f"Schema being registered is incompatible with an earlier schema for subject \"{subject}\" (compatibility {level})")
                if key not in IDS:
                    SCHEMAS.append(text)
                    IDS[key] = len(SCHEMAS)
                versions.append(IDS[key])
                return 200, {"id": IDS[key]}
            if len(parts) == 2 and method == "POST":
                if subject not in SUBJECTS:
                    return error(404, 40401, f"Subject '{subject}' not found.")
                key = normalized(body.get("schema", "null"))
                versions = SUBJECTS[subject]
                if key in IDS and IDS[key] in versions:
                    sid = IDS[key]
                    return 200, {"subject": subject, "id": sid, "version": versions.index(sid) + 1, "schema": SCHEMAS[sid - 1]}
                return error(404, 40403, "Schema not found")
            if len(parts) == 3 and parts[2] == "versions" and method == "GET":
                if subject not in SUBJECTS:
                    return error(404, 40401, f"Subject '{subject}' not found.")
                return 200, list(range(1, len(SUBJECTS[subject]) + 1))
            if len(parts) == 4 and parts[2] == "versions" and method == "GET":
                versions = SUBJECTS.get(subject)
                if not versions:
                    return error(404, 40401, f"Subject '{subject}' not found.")
                v = len(versions) if parts[3] in ("latest", "-1") else int(parts[3])
                if not 1 <= v <= len(versions):
                    return error(404, 40402, "Version not found.")
                sid = versions[v - 1]
                return 200, {"subject": subject, "id": sid, "version": v, "schema": SCHEMAS[sid - 1]}
        if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and method == "GET":
            sid = int(parts[2]) if re.fullmatch(r"\d+", parts[2]) else 0
            if not 1 <= sid <= len(SCHEMAS):
                return error(404, 40403, "Schema not found")
            return 200, {"schema": SCHEMAS[sid - 1]}
        if parts and parts[0] == "config" and len(parts) <= 2:
            subject = parts[1] if len(parts) == 2 else ""
            if method == "GET":
                if subject and subject not in CONFIG:
                    return error(404, 40408, f"Subject '{subject}' does not have subject-level compatibility configured")
                return 200, {"compatibilityLevel": CONFIG[subject]}
            if method == "PUT":
                CONFIG[subject] = body["compatibility"]
                return 200, {"compatibility": CONFIG[subject]}
    return error(404, 404, f"HTTP 404 Not Found: {method} {path}")


USER_INFO = None  # "user:password" every request must authenticate with, when set


class Handler(BaseHTTPRequestHandler):
    def _serve(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
            expected = "Basic " + base64.b64encode(USER_INFO.encode()).decode() if USER_INFO else None
            if expected and self.headers.get("Authorization") != expected:
                status, answer = error(401, 401, "Unauthorized")
            else:
                status, answer = handle(method, self.path, body)
        except Exception as err:  # noqa: BLE001 - an answer, not a dead server
            status, answer = error(500, 50001, f"Error in the test registry: {err!r}")
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's name
        self._serve("GET")

    def do_POST(self):  # noqa: N802
        self._serve("POST")

    def do_PUT(self):  # noqa: N802
        self._serve("PUT")

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


if __name__ == "__main__":
    import argparse
    import ssl

    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--user-info")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    USER_INFO = args.user_info
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
