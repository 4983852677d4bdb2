#!/usr/bin/env python3
"""Offline consistency checks of the deployment files, run by tests/infra/check.

What `terraform validate` would need the registry's provider for is approximated here without it:

1. every .tf file under infra/ parses as HCL (python-hcl2);
2. within each Terraform directory, every `var.`, `local.`, resource, data source and `module.` a file
   refers to is declared, and every declared variable is used;
3. the example root modules pass every required variable of the module they call, and no unknown one,
   and use only outputs it declares; their terraform.tfvars.example parses and sets exactly variables
   they declare, every required one among them;
4. infra/README.md's Variables and Outputs tables match the module (names, types, defaults);
5. template.yaml and the module set the same environment variables, and each is a configuration key
   the README's configuration table documents (or is in EXTRA_ENV below, with its reason);
6. the checkpoint URI each sets lies inside the S3 prefix its policy grants;
7. template parameters and module variables that mean the same thing have the same defaults;
8. the alarms on walbridge's own metrics read the names the function emits (namespace, metrics,
   dimension), when the function's Embedded Metric Format emitter is in the tree;
9. every connectivity key of the README's configuration table (CONNECTIVITY_KEY: the database's and
   Kafka's address, credentials, TLS and SASL keys), and the `${ssm:...}` secret references of its
   "Security" section, is in CONNECTIVITY below, and has on both sides its template parameters and
   module variables, its environment variable built from them, and the IAM statements (Sid, exact
   actions, resource built from its parameter/variable) that what it names needs; no statement but
   the VPC network interfaces' has a "*" resource;
10. the template's and the module's dashboards show the same metrics (namespace, name, statistic,
   dimension), the pictures DASHBOARD_METRICS names among them, each walbridge metric one the emitter
   writes, and the states of every alarm.
11. every template parameter has its module variable and every module variable its template
   parameter (SAME_MEANING; the few one-sided ones are in TEMPLATE_ONLY / MODULE_ONLY with their
   reason), so a parameter added on one side only fails; an environment variable set straight from
   a parameter is set from its pair in the module; where both restrict the values, the template's
   AllowedValues and the module's `contains([...], var.x)` validation allow the same ones;
12. a parameter that sets a configuration key straight has the default the key has in
   shared/walbridge-config/src/keys.rs (or is in DEPLOYMENT_DEFAULTS with its reason), and allows
   only values the key allows.

Usage: consistency.py REPO_ROOT. Prints one line per check; exits 1 when any failed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import hcl2
import yaml

# Environment variables the deployment sets that the README's configuration table does not list.
# "pending": a configuration key the function reads (it must appear, quoted, in the config crate's
#            source) that the README does not document yet; drop it here once the README does.
# "not-a-key": not a configuration key at all.
EXTRA_ENV = {
    # the tracing filter of the function's logs (tracing-subscriber's EnvFilter)
    "RUST_LOG": ("not-a-key", None),
}

# Template parameter -> module variable, for the defaults both have.
SAME_DEFAULTS = {
    "Architecture": "architecture",
    "FunctionTimeout": "timeout",
    "FunctionMemory": "memory_size",
    "LogLevel": "log_level",
    "LogRetentionDays": "log_retention_days",
    "DatabasePort": "database_port",
    "DatabaseSecretKey": "database_secret_key",
    "SlotName": "slot_name",
    "TableIncludeList": "table_include_list",
    "ScheduleExpression": "schedule_expression",
    "PollIntervalMs": "poll_interval_ms",
    "PollDurationMs": "poll_duration_ms",
    "WindowMaxChanges": "window_max_changes",
    "CheckpointVersionRetentionDays": "checkpoint_version_retention_days",
    "AlarmPeriodSeconds": "alarm_period_seconds",
    "LagBytesThreshold": "lag_bytes_threshold",
    "LagSecondsThreshold": "lag_seconds_threshold",
    "SkippedAlarmPeriods": "skipped_alarm_periods",
    "SafeWalBytesThreshold": "safe_wal_bytes_threshold",
    "DatabaseSecretKmsKeyArn": "database_secret_kms_key_arn",
    "DatabaseSslMode": "database_sslmode",
    "DatabaseSslRootCert": "database_sslrootcert",
    "TopicCreationEnable": "topic_creation_enable",
    "KafkaSecurityProtocol": "kafka_security_protocol",
    "KafkaSslTruststoreLocation": "kafka_ssl_truststore_location",
    "KafkaSaslMechanism": "kafka_sasl_mechanism",
    "KafkaSaslUsername": "kafka_sasl_username",
    "KafkaSaslSecretArn": "kafka_sasl_secret_arn",
    "KafkaSaslSecretKey": "kafka_sasl_secret_key",
    "KafkaSaslSecretKmsKeyArn": "kafka_sasl_secret_kms_key_arn",
    "MskClusterArn": "msk_cluster_arn",
    "SsmParameterArns": "ssm_parameter_arns",
    "SsmParameterKmsKeyArn": "ssm_parameter_kms_key_arn",
    "PluginName": "plugin_name",
    "PublicationName": "publication_name",
    "PublicationAutocreateMode": "publication_autocreate_mode",
    "PublishViaPartitionRoot": "publish_via_partition_root",
    "AlarmTopicArn": "alarm_topic_arn",
    "AlarmEmail": "alarm_email",
}

# Template parameter -> module variable, for the ones without a default to compare (required, or
# spelled differently on each side).
SAME_MEANING = {
    **SAME_DEFAULTS,
    "SubnetIds": "subnet_ids",
    "SecurityGroupIds": "security_group_ids",
    "DatabaseHostname": "database_hostname",
    "DatabaseName": "database_dbname",
    "DatabaseUser": "database_user",
    "DatabaseSecretArn": "database_secret_arn",
    "KafkaBootstrapServers": "kafka_bootstrap_servers",
    "TopicPrefix": "topic_prefix",
    # ENABLED/DISABLED in the template, a bool in the module
    "ScheduleState": "schedule_enabled",
}

# Pairs whose values are spelled differently on each side (no allowed values to compare).
DIFFERENT_FORMS = {"ScheduleState": "ENABLED/DISABLED in the template, true/false in the module"}

# Parameters and variables with no counterpart on the other side, and why.
TEMPLATE_ONLY: dict[str, str] = {}
MODULE_ONLY = {
    "name": "SAM names the function after the stack",
    "tags": "SAM tags the stack's resources itself",
    "function_zip": "sam build packages the function",
    "extra_environment": "the template takes further keys through a properties file or by editing it",
    "checkpoint_bucket_name": "the template names the bucket after the stack",
    "checkpoint_bucket_force_destroy": "CloudFormation keeps no such switch (DeletionPolicy)",
}

# Environment variables whose deployment default differs on purpose from the key's default in
# keys.rs (both sides have it, as check_defaults compares).
DEPLOYMENT_DEFAULTS = {
    "DATABASE_SSLMODE": "a deployment verifies the server (verify-full), the library's default is libpq's prefer",
}

# What the lag and skip alarms read (also documented in template.yaml and infra/README.md), one alarm each.
EMF_NAMESPACE = "walbridge"
EMF_METRICS = ("LagBytes", "LagSeconds", "Skipped", "WalStatus", "SafeWalBytes")
EMF_DIMENSION = "Slot"

# The README configuration keys that say how the function reaches and authenticates to PostgreSQL and
# Kafka; each must be in CONNECTIVITY (a new one the deployment does not carry fails the check).
CONNECTIVITY_KEY = re.compile(
    r"^(database\.(hostname|port|user|password|dbname|ssl[a-z.]*)"
    r"|kafka\.(bootstrap\.servers|security\.[a-z.]+|ssl\.[a-z.]+|sasl\.[a-z.]+))$"
)

# key -> how the deployment carries it:
#   env     (template parameters, module variables) the environment variable's value is built from
#   other   (parameters, variables) that only shape IAM statements or deploy-time checks
#   iam     (Sid, exact actions, parameters and variables its Resource is built from), on both sides
# "${ssm:...}" stands for the secret references of the README's "Security" section (no key of its own).
CONNECTIVITY = {
    "database.hostname": {"env": (["DatabaseHostname"], ["database_hostname"])},
    "database.port": {"env": (["DatabasePort"], ["database_port"])},
    "database.user": {"env": (["DatabaseUser"], ["database_user"])},
    "database.dbname": {"env": (["DatabaseName"], ["database_dbname"])},
    "database.password": {
        "env": (["DatabaseSecretArn", "DatabaseSecretKey"], ["database_secret_arn", "database_secret_key"]),
        "other": (["DatabaseSecretKmsKeyArn"], ["database_secret_kms_key_arn"]),
        "iam": [
            ("DatabaseSecret", {"secretsmanager:GetSecretValue"}, ["DatabaseSecretArn"], ["database_secret_arn"]),
            ("DatabaseSecretKey", {"kms:Decrypt"}, ["DatabaseSecretKmsKeyArn"], ["database_secret_kms_key_arn"]),
        ],
    },
    "database.sslmode": {"env": (["DatabaseSslMode"], ["database_sslmode"])},
    "database.sslrootcert": {"env": (["DatabaseSslRootCert"], ["database_sslrootcert"])},
    "kafka.bootstrap.servers": {"env": (["KafkaBootstrapServers"], ["kafka_bootstrap_servers"])},
    "kafka.security.protocol": {"env": (["KafkaSecurityProtocol"], ["kafka_security_protocol"])},
    "kafka.ssl.truststore.location": {"env": (["KafkaSslTruststoreLocation"], ["kafka_ssl_truststore_location"])},
    # one accepted value (PEM), its default: nothing for the deployment to carry
    "kafka.ssl.truststore.type": {},
    "kafka.sasl.mechanism": {
        "env": (["KafkaSaslMechanism"], ["kafka_sasl_mechanism"]),
        # AWS_MSK_IAM: the token is a signed kafka-cluster:Connect; topics are <prefix>.* of the cluster
        "other": (["MskClusterArn"], ["msk_cluster_arn"]),
        "iam": [
            ("MskConnect", {"kafka-cluster:Connect"}, ["MskClusterArn"], ["msk_cluster_arn"]),
            (
                "MskTopics",
                {"kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData"},
                ["MskClusterArn", "TopicPrefix"],
                ["msk_cluster_arn", "topic_prefix"],
            ),
        ],
    },
    "kafka.sasl.username": {"env": (["KafkaSaslUsername"], ["kafka_sasl_username"])},
    "kafka.sasl.password": {
        "env": (["KafkaSaslSecretArn", "KafkaSaslSecretKey"], ["kafka_sasl_secret_arn", "kafka_sasl_secret_key"]),
        "other": (["KafkaSaslSecretKmsKeyArn"], ["kafka_sasl_secret_kms_key_arn"]),
        "iam": [
            ("KafkaSaslSecret", {"secretsmanager:GetSecretValue"}, ["KafkaSaslSecretArn"], ["kafka_sasl_secret_arn"]),
            ("KafkaSaslSecretKey", {"kms:Decrypt"}, ["KafkaSaslSecretKmsKeyArn"], ["kafka_sasl_secret_kms_key_arn"]),
        ],
    },
    # with MSK IAM, creating a missing topic is a permission of its own
    "topic.creation.enable": {
        "env": (["TopicCreationEnable"], ["topic_creation_enable"]),
        "iam": [
            ("MskCreateTopics", {"kafka-cluster:CreateTopic"}, ["MskClusterArn", "TopicPrefix"], ["msk_cluster_arn", "topic_prefix"]),
        ],
    },
    "${ssm:...}": {
        "other": (["SsmParameterArns", "SsmParameterKmsKeyArn"], ["ssm_parameter_arns", "ssm_parameter_kms_key_arn"]),
        "iam": [
            ("SecretReferenceParameters", {"ssm:GetParameter"}, ["SsmParameterArns"], ["ssm_parameter_arns"]),
            ("SecretReferenceParametersKey", {"kms:Decrypt"}, ["SsmParameterKmsKeyArn"], ["ssm_parameter_kms_key_arn"]),
        ],
    },
}

# The only statement whose actions cannot be scoped to a resource (EC2's network-interface actions).
WILDCARD_RESOURCE_SIDS = {"VpcNetworkInterfaces"}

# What an operator looks at first: (namespace, metric) each dashboard must show.
DASHBOARD_METRICS = {
    ("walbridge", "LagBytes"),
    ("walbridge", "LagSeconds"),
    ("walbridge", "SafeWalBytes"),
    ("walbridge", "RestartLagBytes"),
    ("walbridge", "WalStatus"),
    ("walbridge", "Events"),
    ("walbridge", "Skipped"),
    ("walbridge", "Failed"),
    ("AWS/Lambda", "Duration"),
    ("AWS/Lambda", "Errors"),
}

META_ARGS = {"source", "version", "providers", "count", "for_each", "depends_on"}

failures: list[str] = []


def ok(what: str) -> None:
    print(f"  ok    {what}")


def fail(what: str, detail: str) -> None:
    failures.append(what)
    print(f"  FAIL  {what}: {detail}")


def note(what: str) -> None:
    print(f"  note  {what}")


# ----------------------------------------------------------------------------------------- HCL helpers


def unquote(text):
    if isinstance(text, str) and len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def unwrap(expr) -> str:
    """`${string}` -> `string` (python-hcl2 wraps expressions so)."""
    text = str(expr)
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1]
    return text


def blocks(doc: dict, kind: str):
    """(label, body) of each one-label block of `kind` (variable, output, module)."""
    for entry in doc.get(kind, []):
        for label, body in entry.items():
            yield unquote(label), body


def two_label_blocks(doc: dict, kind: str):
    """(type, name, body) of each resource or data block."""
    for entry in doc.get(kind, []):
        for rtype, named in entry.items():
            for name, body in named.items():
                yield unquote(rtype), unquote(name), body


def strings(node):
    """Every string value in a parsed HCL tree (expressions included), comments left out."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("__"):
                continue
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node.replace("$${", "")


def render_default(value) -> str:
    """A variable's default as the README's tables write it (inside backticks)."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    if isinstance(value, str):
        inner = unwrap(value)
        return "null" if inner == "null" else inner
    return str(value)


class TfDir:
    """The parsed .tf files of one Terraform directory (one module)."""

    def __init__(self, path: Path, docs: dict[Path, dict]):
        self.path = path
        self.docs = docs
        self.variables = {n: b for d in docs.values() for n, b in blocks(d, "variable")}
        self.outputs = {n: b for d in docs.values() for n, b in blocks(d, "output")}
        self.modules = {n: b for d in docs.values() for n, b in blocks(d, "module")}
        self.resources = {(t, n) for d in docs.values() for t, n, _ in two_label_blocks(d, "resource")}
        self.data = {(t, n) for d in docs.values() for t, n, _ in two_label_blocks(d, "data")}
        self.locals = {
            k: v
            for d in docs.values()
            for entry in d.get("locals", [])
            for k, v in entry.items()
            if not k.startswith("__")
        }
        self.text = "\n".join(s for d in docs.values() for s in strings(d))


# ------------------------------------------------------------------------------------------ the checks


def parse_tf(root: Path) -> dict[Path, TfDir]:
    print("HCL parse (python-hcl2) of every .tf file under infra/:")
    by_dir: dict[Path, dict[Path, dict]] = {}
    files = sorted(p for p in (root / "infra").rglob("*.tf") if ".terraform" not in p.parts)
    if not files:
        fail("infra/ has .tf files", "none found")
    for path in files:
        rel = path.relative_to(root)
        try:
            with path.open() as handle:
                doc = hcl2.load(handle)
        except Exception as err:  # noqa: BLE001 - any parse error is the finding
            fail(f"parse {rel}", str(err).splitlines()[0] if str(err) else type(err).__name__)
            continue
        by_dir.setdefault(path.parent, {})[path] = doc
        ok(f"parse {rel}")
    return {d: TfDir(d, docs) for d, docs in sorted(by_dir.items())}


def check_references(root: Path, dirs: dict[Path, TfDir]) -> None:
    print("references inside each Terraform directory (what `terraform validate` would catch first):")
    for path, tf in dirs.items():
        rel = path.relative_to(root)
        problems = []
        for name in sorted(set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", tf.text))):
            if name not in tf.variables:
                problems.append(f"var.{name} is not declared")
        for name in sorted(set(re.findall(r"\blocal\.([A-Za-z_][A-Za-z0-9_-]*)", tf.text))):
            if name not in tf.locals:
                problems.append(f"local.{name} is not declared")
        for rtype, name in sorted(set(re.findall(r"(?<![\w.])(aws_[a-z0-9_]+)\.([a-z_][a-z0-9_-]*)", tf.text))):
            if (rtype, name) not in tf.resources:
                problems.append(f"resource {rtype}.{name} is not declared")
        for rtype, name in sorted(set(re.findall(r"\bdata\.([a-z0-9_]+)\.([a-z_][a-z0-9_-]*)", tf.text))):
            if (rtype, name) not in tf.data:
                problems.append(f"data.{rtype}.{name} is not declared")
        for name in sorted(tf.variables):
            if not re.search(rf"\bvar\.{re.escape(name)}\b", tf.text):
                problems.append(f"variable {name} is declared but never used")
        for name, body in tf.modules.items():
            source = unquote(body.get("source", ""))
            if not source.startswith("."):
                continue
            target = (path / source).resolve()
            callee = dirs.get(target)
            if callee is None:
                problems.append(f"module {name}: no Terraform files at {source}")
                continue
            args = {k for k in body if not k.startswith("__")} - META_ARGS
            for arg in sorted(args - set(callee.variables)):
                problems.append(f"module {name}: {arg} is not a variable of {source}")
            required = {v for v, b in callee.variables.items() if "default" not in b}
            for arg in sorted(required - args):
                problems.append(f"module {name}: required variable {arg} is not set")
            for out in sorted(set(re.findall(rf"\bmodule\.{re.escape(name)}\.([A-Za-z_][A-Za-z0-9_-]*)", tf.text))):
                if out not in callee.outputs:
                    problems.append(f"module.{name}.{out}: {source} has no such output")
        for name in sorted(set(re.findall(r"\bmodule\.([A-Za-z_][A-Za-z0-9_-]*)\.", tf.text))):
            if name not in tf.modules:
                problems.append(f"module.{name} is not declared")
        what = (
            f"{rel}: {len(tf.variables)} variables, {len(tf.locals)} locals, {len(tf.resources)} resources, "
            f"{len(tf.data)} data sources, {len(tf.modules)} module calls, {len(tf.outputs)} outputs"
        )
        if problems:
            fail(f"references in {rel}", "; ".join(problems))
        else:
            ok(what)


def check_tfvars_examples(root: Path, dirs: dict[Path, TfDir]) -> None:
    print("example variable files (terraform.tfvars.example) against their root module:")
    for path in sorted((root / "infra").rglob("*.tfvars.example")):
        rel = path.relative_to(root)
        try:
            with path.open() as handle:
                values = {k for k in hcl2.load(handle) if not k.startswith("__")}
        except Exception as err:  # noqa: BLE001 - any parse error is the finding
            fail(f"parse {rel}", str(err).splitlines()[0] if str(err) else type(err).__name__)
            continue
        tf = dirs.get(path.parent)
        if tf is None:
            fail(str(rel), "no Terraform files beside it")
            continue
        problems = [f"{v} is not a variable" for v in sorted(values - set(tf.variables))]
        required = {v for v, b in tf.variables.items() if "default" not in b}
        problems += [f"required variable {v} is not set" for v in sorted(required - values)]
        if problems:
            fail(str(rel), "; ".join(problems))
        else:
            ok(f"{rel}: parses, sets {len(values)} variables, every required one")


def markdown_table(text: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table after the line `heading`."""
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        return []
    rows, seen_table = [], False
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            seen_table = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
        elif seen_table:
            break
    return rows[1:]  # without the header


def strip_ticks(cell: str) -> str:
    return cell[1:-1] if len(cell) >= 2 and cell[0] == "`" and cell[-1] == "`" else cell


def check_readme_tables(root: Path, module: TfDir) -> None:
    print("infra/README.md tables against infra/modules/walbridge:")
    readme = (root / "infra" / "README.md").read_text()

    rows = markdown_table(readme, "## Variables")
    documented = {strip_ticks(r[0]): r for r in rows if r}
    declared = module.variables
    missing = sorted(set(declared) - set(documented))
    extra = sorted(set(documented) - set(declared))
    problems = [f"not documented: {', '.join(missing)}"] if missing else []
    if extra:
        problems.append(f"documented but not declared: {', '.join(extra)}")
    for name in sorted(set(declared) & set(documented)):
        row, body = documented[name], declared[name]
        if len(row) < 4:
            problems.append(f"{name}: row needs 4 cells (variable, type, default, description)")
            continue
        if strip_ticks(row[1]) != unwrap(body.get("type", "any")):
            problems.append(f"{name}: type {row[1]} in README, {unwrap(body.get('type'))} in variables.tf")
        want = "**required**" if "default" not in body else f"`{render_default(body['default'])}`"
        if row[2] != want:
            problems.append(f"{name}: default {row[2]} in README, {want} in variables.tf")
    if problems:
        fail("Variables table", "; ".join(problems))
    else:
        ok(f"Variables table: {len(declared)} variables (names, types, defaults)")

    rows = markdown_table(readme, "## Outputs")
    documented_out = {strip_ticks(r[0]) for r in rows if r}
    problems = []
    if missing := sorted(set(module.outputs) - documented_out):
        problems.append(f"not documented: {', '.join(missing)}")
    if extra := sorted(documented_out - set(module.outputs)):
        problems.append(f"documented but not declared: {', '.join(extra)}")
    if problems:
        fail("Outputs table", "; ".join(problems))
    else:
        ok(f"Outputs table: {len(module.outputs)} outputs")


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, ...) as {"Fn::X": value}."""


def _cfn_tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def readme_config_keys(root: Path) -> set[str]:
    """The configuration keys in the first column of the README's configuration table."""
    readme = (root / "README.md").read_text()
    keys: set[str] = set()
    for row in markdown_table(readme, "### Configuration"):
        keys.update(re.findall(r"`([a-z0-9_.]+)`", row[0]))
    return keys


def env_name(key: str) -> str:
    return key.upper().replace(".", "_")


def check_environment(root: Path, template: dict, module: TfDir) -> None:
    print("environment variables: template.yaml, the module, the README's configuration table:")
    function = template["Resources"]["WalbridgeFunction"]["Properties"]
    template_env = function["Environment"]["Variables"]
    module_env = module.locals.get("environment", {})
    module_env = {k: v for k, v in module_env.items() if not k.startswith("__")}

    t_keys, m_keys = set(template_env), set(module_env)
    if t_keys == m_keys:
        ok(f"template.yaml and the module set the same {len(t_keys)} variables")
    else:
        fail(
            "template.yaml and the module set the same variables",
            f"only in template.yaml: {sorted(t_keys - m_keys)}; only in the module: {sorted(m_keys - t_keys)}",
        )

    keys = readme_config_keys(root)
    if not keys:
        fail("README.md has a configuration table", "no keys found under '### Configuration'")
        return
    documented = {env_name(k): k for k in keys}
    config_src = "\n".join(p.read_text() for p in sorted((root / "shared").glob("walbridge-config/src/*.rs")))
    for var in sorted(t_keys | m_keys):
        if var in documented:
            ok(f"{var} = {documented[var]} (README configuration table)")
            continue
        kind, key = EXTRA_ENV.get(var, (None, None))
        if kind == "not-a-key":
            ok(f"{var}: not a configuration key (listed in EXTRA_ENV)")
        elif kind == "pending":
            if f'"{key}"' in config_src:
                ok(f"{var} = {key}: read by walbridge-config, not yet in the README's table (EXTRA_ENV)")
            else:
                fail(f"{var} = {key}", "neither in the README's configuration table nor in walbridge-config's source")
        else:
            fail(var, "not a key of the README's configuration table (nor in EXTRA_ENV of this script)")
    for var, (kind, key) in sorted(EXTRA_ENV.items()):
        if kind == "pending" and var in documented:
            note(f"{var}: the README documents {key} now; drop it from EXTRA_ENV")


def check_checkpoint_prefix(template: dict, module: TfDir) -> None:
    print("the checkpoint URI lies inside the S3 prefix the function may write:")
    props = template["Resources"]["WalbridgeFunction"]["Properties"]
    uri = props["Environment"]["Variables"]["CHECKPOINT_URI"].get("Fn::Sub", "")
    granted = []
    for policy in props.get("Policies", []):
        for stmt in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if isinstance(stmt, dict) and "s3:PutObject" in stmt.get("Action", []):
                granted.append(stmt["Resource"].get("Fn::Sub", ""))
    prefixes = [g.removeprefix("${CheckpointBucket.Arn}/").removesuffix("*") for g in granted]
    if uri.startswith("s3://${CheckpointBucket}/") and any(
        uri.removeprefix("s3://${CheckpointBucket}/").startswith(p) and p for p in prefixes
    ):
        ok(f"template.yaml: {uri} under {granted}")
    else:
        fail("template.yaml checkpoint prefix", f"CHECKPOINT_URI {uri!r}, s3:PutObject granted on {granted!r}")

    local_uri = unquote(unwrap(module.locals.get("checkpoint_uri", "")))
    granted_tf = re.findall(r"aws_s3_bucket\.checkpoint\.arn\}/\$\{local\.checkpoint_prefix\}\*", module.text)
    if "${local.checkpoint_prefix}" in local_uri and granted_tf:
        ok(f"module: {local_uri} under local.checkpoint_prefix")
    else:
        fail("module checkpoint prefix", f"checkpoint_uri {local_uri!r}; grant on local.checkpoint_prefix found: {bool(granted_tf)}")


def check_defaults(template: dict, module: TfDir) -> None:
    print("template parameters and module variables have the same defaults:")
    params = template["Parameters"]
    problems = []
    for param, var in SAME_DEFAULTS.items():
        if param not in params or var not in module.variables:
            problems.append(f"{param}/{var}: missing on one side")
            continue
        t = str(params[param].get("Default"))
        m = unquote(render_default(module.variables[var].get("default")))
        # CloudFormation has no null: an empty parameter (or list) is the module's null (or [])
        if t != m and not (t == "" and m in ("null", "[]")):
            problems.append(f"{param}={t!r} but {var}={m!r}")
    if problems:
        fail("same defaults", "; ".join(problems))
    else:
        ok(f"{len(SAME_DEFAULTS)} parameter/variable pairs")


def module_var_of(expr) -> str | None:
    """The variable an expression is straight from: `${var.x}` or `${tostring(var.x)}`."""
    m = re.fullmatch(r"(?:tostring\()?var\.([a-z0-9_]+)\)?", unwrap(expr))
    return m.group(1) if m else None


def module_allowed(body: dict, var: str) -> set[str] | None:
    """The values a module variable's `contains([...], var.x)` validation (or type bool) allows."""
    if unwrap(body.get("type", "")) == "bool":
        return {"true", "false"}
    for validation in body.get("validation", []) or []:
        m = re.search(r"contains\(\[([^\]]*)\],\s*var\." + re.escape(var) + r"\)", str(validation.get("condition", "")))
        if m:
            return {item.strip().strip('"') for item in m.group(1).split(",") if item.strip()}
    return None


def check_parameter_pairs(template: dict, module: TfDir) -> None:
    print("every template parameter has its module variable and the other way round:")
    params, variables = template["Parameters"], module.variables
    problems = []
    for param, var in SAME_MEANING.items():
        if param not in params:
            problems.append(f"{param} (pair of {var}) is not a template parameter")
        if var not in variables:
            problems.append(f"{var} (pair of {param}) is not a module variable")
    paired_params, paired_vars = set(SAME_MEANING), set(SAME_MEANING.values())
    for param in sorted(set(params) - paired_params - set(TEMPLATE_ONLY)):
        problems.append(f"template parameter {param} has no module variable (SAME_MEANING, or TEMPLATE_ONLY with a reason)")
    for var in sorted(set(variables) - paired_vars - set(MODULE_ONLY)):
        problems.append(f"module variable {var} has no template parameter (SAME_MEANING, or MODULE_ONLY with a reason)")
    for param in sorted(set(TEMPLATE_ONLY) & paired_params):
        problems.append(f"{param} is both paired and TEMPLATE_ONLY")
    for var in sorted(set(MODULE_ONLY) & paired_vars):
        problems.append(f"{var} is both paired and MODULE_ONLY")

    template_env = template["Resources"]["WalbridgeFunction"]["Properties"]["Environment"]["Variables"]
    module_env = module.locals.get("environment", {})
    wired = 0
    for env, value in sorted(template_env.items()):
        param = value.get("Ref") if isinstance(value, dict) else None
        var = module_var_of(module_env.get(env, ""))
        if param is None or var is None:
            continue
        wired += 1
        if SAME_MEANING.get(param) != var:
            problems.append(f"{env} is set from {param} in the template but from var.{var} in the module")

    allowed = 0
    for param, var in SAME_MEANING.items():
        if param not in params or var not in variables or param in DIFFERENT_FORMS:
            continue
        t_allowed = params[param].get("AllowedValues")
        m_allowed = module_allowed(variables[var], var)
        if t_allowed is None and m_allowed is None:
            continue
        allowed += 1
        t_set = {str(v) for v in t_allowed} if t_allowed is not None else None
        if t_set != m_allowed:
            problems.append(f"{param} allows {sorted(t_set) if t_set else 'anything'}, {var} {sorted(m_allowed) if m_allowed else 'anything'}")
    if problems:
        fail("parameter pairs", "; ".join(problems))
    else:
        ok(
            f"{len(SAME_MEANING)} pairs, {len(TEMPLATE_ONLY)} template-only and {len(MODULE_ONLY)} module-only; "
            f"{wired} variables set from their pair on both sides, {allowed} with the same allowed values"
        )


def rust_const_strings(source: str, name: str) -> list[str] | None:
    """The strings of a `const NAME` in keys.rs: a list literal, or `names(TABLE)` (the first string of
    each of TABLE's tuples)."""
    m = re.search(r"const " + re.escape(name) + r"\b[^=]*=\s*(.*?);", source, re.S)
    if not m:
        return None
    body = m.group(1).strip()
    if inner := re.fullmatch(r"names\(([A-Z_]+)\)", body):
        table = re.search(r"const " + re.escape(inner.group(1)) + r"\b[^=]*=\s*(.*?);", source, re.S)
        return re.findall(r'\(\s*"([^"]*)"', table.group(1)) if table else None
    return re.findall(r'"([^"]*)"', body)


def config_keys(root: Path) -> dict[str, tuple[str | None, list[str] | None]]:
    """key -> (default, allowed values or None) from keys.rs's `Key::new` declarations."""
    source = (root / "shared" / "walbridge-config" / "src" / "keys.rs").read_text()
    keys = {}
    for m in re.finditer(r'Key::new\(\s*"([^"]+)",\s*(?:Some\("([^"]*)"\)|None)\s*\)', source):
        rest = source[m.end() : source.find(";", m.end())]
        allowed = None
        if one_of := re.match(r"\s*\.one_of\((&?\[[^\]]*\]|&?[A-Z_]+)\)", rest):
            arg = one_of.group(1).lstrip("&")
            allowed = re.findall(r'"([^"]*)"', arg) if arg.startswith("[") else rust_const_strings(source, arg)
        keys[m.group(1)] = (m.group(2), allowed)
    return keys


def check_key_defaults(root: Path, template: dict) -> None:
    print("parameters that set a configuration key have its default and allow only its values:")
    keys = config_keys(root)
    if not keys:
        fail("keys.rs", "no Key::new declarations found")
        return
    documented = {env_name(k): k for k in readme_config_keys(root)}
    params = template["Parameters"]
    template_env = template["Resources"]["WalbridgeFunction"]["Properties"]["Environment"]["Variables"]
    problems, compared = [], 0
    for env, value in sorted(template_env.items()):
        param = value.get("Ref") if isinstance(value, dict) else None
        key = documented.get(env)
        if param not in params or key not in keys:
            continue
        default, allowed = keys[key]
        t_default = params[param].get("Default")
        if default is not None and t_default is not None and env not in DEPLOYMENT_DEFAULTS:
            compared += 1
            if str(t_default) != default:
                problems.append(f"{param} defaults to {t_default!r}, {key} to {default!r} (keys.rs)")
        if allowed is not None and (t_allowed := params[param].get("AllowedValues")) is not None:
            if extra := sorted({str(v) for v in t_allowed} - set(allowed)):
                problems.append(f"{param} allows {extra}, which {key} does not (keys.rs: {allowed})")
    for env in sorted(set(DEPLOYMENT_DEFAULTS) - set(template_env)):
        problems.append(f"DEPLOYMENT_DEFAULTS names {env}, which the template does not set")
    if problems:
        fail("key defaults", "; ".join(problems))
    else:
        ok(f"{compared} parameters default as keys.rs does ({len(DEPLOYMENT_DEFAULTS)} on purpose otherwise)")


def check_metrics(root: Path, template: dict, module: TfDir) -> None:
    print("lag and skip alarms read the metrics the function emits:")
    alarms = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    lag = [a for a in alarms if a.get("Namespace") == EMF_NAMESPACE]
    names = sorted(a["MetricName"] for a in lag)
    dims = {d["Name"] for a in lag for d in a.get("Dimensions", [])}
    if names == sorted(EMF_METRICS) and dims == {EMF_DIMENSION}:
        ok(f"template.yaml: namespace {EMF_NAMESPACE}, {names}, dimension {EMF_DIMENSION}")
    else:
        fail("template.yaml walbridge alarms", f"metrics {names}, dimensions {sorted(dims)}")
    main_tf = (root / "infra/modules/walbridge/main.tf").read_text()
    tf_ns = re.findall(r'namespace\s*=\s*"walbridge"', main_tf)
    metric = "|".join(EMF_METRICS)
    tf_metrics = sorted(re.findall(rf'metric_name\s*=\s*"({metric})"', main_tf))
    tf_dims = re.findall(r"dimensions\s*=\s*\{\s*Slot\s*=\s*var\.slot_name\s*\}", main_tf)
    alarms = len(EMF_METRICS)
    if len(tf_ns) == alarms and tf_metrics == sorted(EMF_METRICS) and len(tf_dims) == alarms:
        ok(f"module: namespace {EMF_NAMESPACE}, {tf_metrics}, dimension {EMF_DIMENSION}")
    else:
        fail("module walbridge alarms", f"namespace hits {len(tf_ns)}, metrics {tf_metrics}, Slot dimensions {len(tf_dims)}")

    emitters = [
        p
        for base in ("shared", "functions")
        for p in sorted((root / base).rglob("*.rs"))
        if "target" not in p.parts and "CloudWatchMetrics" in p.read_text()
    ]
    if not emitters:
        note("no Embedded Metric Format emitter (a .rs file with CloudWatchMetrics) in the tree yet: not compared")
        return
    source = "\n".join(p.read_text() for p in emitters)
    want = [f'"{EMF_NAMESPACE}"', f'[["{EMF_DIMENSION}"]]'] + [f'"{m}"' for m in EMF_METRICS]
    missing = [w for w in want if w not in source]
    where = ", ".join(str(p.relative_to(root)) for p in emitters)
    if missing:
        fail(f"emitter {where}", f"does not contain {missing}")
    else:
        ok(f"emitter {where} names them ({', '.join(want)})")


def cfn_refs(node) -> set[str]:
    """Every name a CloudFormation value refers to: Ref, GetAtt, and ${Name} inside Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value.split(".")[0] if isinstance(value, str) else value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found.update(n.split(".")[0] for n in re.findall(r"\$\{([A-Za-z0-9_.:]+)\}", text))
                if not isinstance(value, str):
                    found.update(cfn_refs(value[1]))
            else:
                found.update(cfn_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.update(cfn_refs(value))
    return found


def cfn_statements(node):
    """The IAM statements of a policy document, through Fn::If branches (AWS::NoValue left out)."""
    if isinstance(node, list):
        for item in node:
            yield from cfn_statements(item)
    elif isinstance(node, dict):
        if "Fn::If" in node:
            for branch in node["Fn::If"][1:]:
                yield from cfn_statements(branch)
        elif "Effect" in node:
            yield node


def as_set(value) -> set[str]:
    return {value} if isinstance(value, str) else set(value)


def tf_statements(module: TfDir):
    """(sid, actions, text of the resources and for_each with locals expanded) of the function's role."""
    def expand(text: str) -> str:
        for _ in range(3):  # locals that use locals
            text = re.sub(
                r"\blocal\.([A-Za-z_][A-Za-z0-9_]*)", lambda m: f"({module.locals.get(m.group(1), '')})", text
            )
        return text

    for doc in module.docs.values():
        for rtype, name, body in two_label_blocks(doc, "data"):
            if rtype != "aws_iam_policy_document" or name != "walbridge":
                continue
            for stmt in body.get("statement", []):
                yield unquote(stmt.get("sid")), {unquote(a) for a in stmt.get("actions", [])}, expand(
                    " ".join(str(r) for r in stmt.get("resources", []))
                )
            for dyn in body.get("dynamic", []):
                for _, block in dyn.items():
                    for stmt in block.get("content", []):
                        text = " ".join(str(r) for r in stmt.get("resources", [])) + " " + str(block.get("for_each"))
                        yield unquote(stmt.get("sid")), {unquote(a) for a in stmt.get("actions", [])}, expand(text)


def check_connectivity(root: Path, template: dict, module: TfDir) -> None:
    print("connectivity keys: parameter, variable, environment variable and IAM statement on both sides:")
    readme = (root / "README.md").read_text()
    documented = readme_config_keys(root) | ({"${ssm:...}"} if "${ssm:" in readme else set())
    wanted = {k for k in documented if CONNECTIVITY_KEY.match(k)} | (documented & {"${ssm:...}"})
    if missing := sorted(wanted - set(CONNECTIVITY)):
        fail("connectivity keys", f"README keys the deployment does not carry (add them to CONNECTIVITY): {missing}")
    if unknown := sorted(set(CONNECTIVITY) - documented):
        fail("connectivity keys", f"in CONNECTIVITY but not in the README: {unknown}")

    params = template["Parameters"]
    function = template["Resources"]["WalbridgeFunction"]["Properties"]
    t_env = function["Environment"]["Variables"]
    m_env = {k: v for k, v in module.locals.get("environment", {}).items() if not k.startswith("__")}
    t_statements = {}
    for policy in function.get("Policies", []):
        if isinstance(policy, dict):
            for stmt in cfn_statements(policy.get("Statement", [])):
                t_statements[stmt.get("Sid")] = stmt
    m_statements = {sid: (actions, text) for sid, actions, text in tf_statements(module)}

    for key, spec in sorted(CONNECTIVITY.items()):
        problems = []
        env_params, env_vars = spec.get("env", ([], []))
        other_params, other_vars = spec.get("other", ([], []))
        for param in env_params + other_params:
            if param not in params:
                problems.append(f"template.yaml has no parameter {param}")
        for var in env_vars + other_vars:
            if var not in module.variables:
                problems.append(f"the module has no variable {var}")
        if env_params or env_vars:
            var_name = env_name(key)
            if var_name not in t_env:
                problems.append(f"template.yaml does not set {var_name}")
            elif missing := sorted(set(env_params) - cfn_refs(t_env[var_name])):
                problems.append(f"template.yaml's {var_name} is not built from {missing}")
            if var_name not in m_env:
                problems.append(f"the module does not set {var_name}")
            elif missing := sorted(v for v in env_vars if not re.search(rf"\bvar\.{v}\b", str(m_env[var_name]))):
                problems.append(f"the module's {var_name} is not built from var.{missing}")
        for sid, actions, res_params, res_vars in spec.get("iam", []):
            stmt = t_statements.get(sid)
            if stmt is None:
                problems.append(f"template.yaml has no IAM statement {sid}")
            else:
                if as_set(stmt.get("Action", [])) != actions:
                    problems.append(f"template.yaml {sid}: actions {sorted(as_set(stmt.get('Action', [])))}, want {sorted(actions)}")
                if missing := sorted(set(res_params) - cfn_refs(stmt.get("Resource"))):
                    problems.append(f"template.yaml {sid}: Resource not built from {missing}")
            if sid not in m_statements:
                problems.append(f"the module has no IAM statement {sid}")
            else:
                m_actions, text = m_statements[sid]
                if m_actions != actions:
                    problems.append(f"module {sid}: actions {sorted(m_actions)}, want {sorted(actions)}")
                if missing := sorted(v for v in res_vars if not re.search(rf"\bvar\.{v}\b", text)):
                    problems.append(f"module {sid}: resources not built from var.{missing}")
        if problems:
            fail(key, "; ".join(problems))
        else:
            sids = [i[0] for i in spec.get("iam", [])]
            what = ", ".join(env_params + other_params) or "-"
            ok(f"{key}: {what}" + (f"; IAM {', '.join(sids)}" if sids else ""))

    wide = sorted(
        [f"template.yaml {sid}" for sid, st in t_statements.items() if "*" in as_set(st.get("Resource", [])) and sid not in WILDCARD_RESOURCE_SIDS]
        + [f"module {sid}" for sid, (_, text) in m_statements.items() if '"*"' in text and sid not in WILDCARD_RESOURCE_SIDS]
    )
    if wide:
        fail("no '*' resources", f"statements on every resource: {wide}")
    else:
        ok(f"no '*' resource but {sorted(WILDCARD_RESOURCE_SIDS)} ({len(t_statements)} template and {len(m_statements)} module statements)")


def check_dashboards(root: Path, template: dict, module: TfDir) -> None:
    print("the dashboards show the same metrics, the ones the function emits, and every alarm:")
    resources = template["Resources"]
    boards = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    if len(boards) != 1:
        fail("template.yaml dashboard", f"{len(boards)} AWS::CloudWatch::Dashboard resources, want 1")
        return
    body = boards[0]["Properties"]["DashboardBody"]
    text = body.get("Fn::Sub", "") if isinstance(body, dict) else body
    try:  # an unquoted ${...} (a number) as 0; those inside strings kept, to read dimensions and alarms
        widgets = json.loads(re.sub(r":\s*\$\{[^}]+\}", ": 0", text))["widgets"]
    except (ValueError, KeyError) as err:
        fail("template.yaml dashboard", f"DashboardBody is not JSON with widgets once substituted: {err}")
        return
    dims = {"${SlotName}": "slot.name", "${WalbridgeFunction}": "function"}
    t_metrics, t_alarms = set(), set()
    for widget in widgets:
        props = widget.get("properties", {})
        t_alarms.update(a.removeprefix("${").removesuffix(".Arn}") for a in props.get("alarms", []))
        for row in props.get("metrics", []):
            if row and isinstance(row[0], str):
                stat = row[-1].get("stat") if isinstance(row[-1], dict) else None
                t_metrics.add((row[0], row[1], row[2], dims.get(row[3], row[3]), stat))

    main_tf = (root / "infra/modules/walbridge/main.tf").read_text()
    start = main_tf.find('resource "aws_cloudwatch_dashboard"')
    if start < 0:
        fail("module dashboard", "no aws_cloudwatch_dashboard resource in main.tf")
        return
    end = main_tf.find("\n}\n", start)
    board = main_tf[start:end]
    tf_dims = {"var.slot_name": "slot.name", "aws_lambda_function.walbridge.function_name": "function"}
    m_metrics = {
        (ns, metric, dim, tf_dims.get(value, value), stat)
        for ns, metric, dim, value, stat in re.findall(
            r'\[\s*"([\w/]+)",\s*"(\w+)",\s*"(\w+)",\s*([\w.]+),\s*\{\s*stat\s*=\s*"(\w+)"', board
        )
    }
    m_alarms = set(re.findall(r"aws_cloudwatch_metric_alarm\.(\w+)\.arn", board))

    problems = []
    if t_metrics != m_metrics:
        problems.append(f"only in template.yaml: {sorted(t_metrics - m_metrics)}; only in the module: {sorted(m_metrics - t_metrics)}")
    shown = {(m[0], m[1]) for m in t_metrics | m_metrics}
    if missing := sorted(DASHBOARD_METRICS - shown):
        problems.append(f"not shown: {missing}")
    wrong_dim = sorted(m for m in t_metrics | m_metrics if (m[0], m[2], m[3]) not in {("walbridge", EMF_DIMENSION, "slot.name"), ("AWS/Lambda", "FunctionName", "function")})
    if wrong_dim:
        problems.append(f"dimension not Slot = slot.name / FunctionName = the function: {wrong_dim}")
    template_alarms = {n for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    if missing := sorted(template_alarms - t_alarms):
        problems.append(f"template.yaml alarms not on its dashboard: {missing}")
    module_alarms = {n for t, n in module.resources if t == "aws_cloudwatch_metric_alarm"}
    if missing := sorted(module_alarms - m_alarms):
        problems.append(f"module alarms not on its dashboard: {missing}")
    emitters = [
        p
        for base in ("shared", "functions")
        for p in sorted((root / base).rglob("*.rs"))
        if "target" not in p.parts and "CloudWatchMetrics" in p.read_text()
    ]
    if emitters:
        source = "\n".join(p.read_text() for p in emitters)
        emitted = set(re.findall(r'"Name":\s*"(\w+)"', source))
        if unknown := sorted(m for ns, m in shown if ns == EMF_NAMESPACE and m not in emitted):
            problems.append(f"walbridge metrics the function does not emit: {unknown}")
    else:
        note("no Embedded Metric Format emitter in the tree yet: dashboard metric names not compared")
    if problems:
        fail("dashboards", "; ".join(problems))
    else:
        ok(f"{len(t_metrics)} metric rows alike on both, {len(t_alarms)} and {len(m_alarms)} alarms, every one emitted")


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    dirs = parse_tf(root)
    check_references(root, dirs)
    check_tfvars_examples(root, dirs)
    module = dirs.get(root / "infra" / "modules" / "walbridge")
    if module is None:
        fail("infra/modules/walbridge", "no module there")
        return 1
    check_readme_tables(root, module)
    with (root / "template.yaml").open() as handle:
        template = yaml.load(handle, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    check_environment(root, template, module)
    check_checkpoint_prefix(template, module)
    check_defaults(template, module)
    check_parameter_pairs(template, module)
    check_key_defaults(root, template)
    check_metrics(root, template, module)
    check_connectivity(root, template, module)
    check_dashboards(root, template, module)
    if failures:
        print(f"consistency: {len(failures)} failed: {', '.join(failures)}")
        return 1
    print("consistency: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
