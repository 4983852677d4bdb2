# Inputs of the walbridge module. Every configuration key the function reads is a Debezium connector
# property, passed as an environment variable (upper case, '.' -> '_'); the README's configuration
# table lists them. infra/README.md documents these variables in a table that tests/infra/check keeps
# in step with this file.

# --------------------------------------------------------------------------------------------- function

variable "name" {
  description = "Name of the function, and prefix of the other named resources (role, schedule, log group, queue, topic, alarms)."
  type        = string
  default     = "walbridge"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name: 1 to 40 characters of A-Z, a-z, 0-9, '_' and '-'."
  }
}

variable "function_zip" {
  description = "Path of the zip built by `cargo lambda build --release --arm64 --output-format zip -p walbridge` (target/lambda/walbridge/bootstrap.zip)."
  type        = string
}

variable "architecture" {
  description = "Instruction set the zip was built for: arm64 (`--arm64`) or x86_64 (`--x86-64`)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture: arm64 or x86_64."
  }
}

variable "timeout" {
  description = "Lambda timeout in seconds: the time budget of one invocation."
  type        = number
  default     = 300

  validation {
    condition     = var.timeout >= 30 && var.timeout <= 900
    error_message = "timeout: 30 to 900 seconds."
  }
}

variable "memory_size" {
  description = "Lambda memory in MB (CPU scales with it)."
  type        = number
  default     = 256
}

variable "log_level" {
  description = "RUST_LOG filter of the function's JSON logs."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

# ---------------------------------------------------------------------------------------------- network

variable "subnet_ids" {
  description = "Private subnets from which the function reaches PostgreSQL and Kafka (and S3 and Secrets Manager, through VPC endpoints or NAT)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids: at least one subnet (the database lives in a VPC)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the function; the database's and the brokers' groups must admit them."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0
    error_message = "security_group_ids: at least one security group."
  }
}

# ------------------------------------------------------------------------------------------- PostgreSQL

variable "database_hostname" {
  description = "database.hostname"
  type        = string
}

variable "database_port" {
  description = "database.port"
  type        = number
  default     = 5432
}

variable "database_dbname" {
  description = "database.dbname"
  type        = string
}

variable "database_user" {
  description = "database.user (needs the REPLICATION attribute, or rds_replication on RDS)"
  type        = string
}

variable "database_secret_arn" {
  description = "Full ARN (with its 6-character suffix) of the Secrets Manager secret holding the database password (JSON). The function resolves `$${secretsmanager:<arn>:<key>}` at cold start; the role may read this secret only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.database_secret_arn))
    error_message = "database_secret_arn: the full ARN of a Secrets Manager secret."
  }
}

variable "database_secret_key" {
  description = "JSON key of the password inside the secret."
  type        = string
  default     = "password"
}

variable "database_secret_kms_key_arn" {
  description = "Customer-managed KMS key the secret is encrypted with; null for the AWS-managed key."
  type        = string
  default     = null
}

variable "database_sslmode" {
  description = "database.sslmode, as libpq means it. verify-full (chain to database_sslrootcert and host name) is the only mode that stops a man in the middle; prefer and require encrypt without checking the server."
  type        = string
  default     = "verify-full"

  validation {
    condition     = contains(["disable", "prefer", "require", "verify-ca", "verify-full"], var.database_sslmode)
    error_message = "database_sslmode: disable, prefer, require, verify-ca or verify-full."
  }
}

variable "database_sslrootcert" {
  description = "database.sslrootcert: absolute path of the PEM bundle of CA certificates the database's certificate must chain to, set only with verify-ca or verify-full. The default is AWS's RDS global-bundle.pem at the root of the function zip (/var/task; the README's \"Deploy\" says how to put it there); a cold start without the file fails naming it. null: the system's roots (they do not hold the RDS CAs)."
  type        = string
  default     = "/var/task/global-bundle.pem"

  validation {
    condition     = var.database_sslrootcert == null || can(regex("^/", var.database_sslrootcert))
    error_message = "database_sslrootcert: an absolute path, or null for the system's roots."
  }
}

variable "slot_name" {
  description = "slot.name (a logical replication slot of plugin_name's plugin); also the checkpoint's S3 prefix."
  type        = string
  default     = "debezium"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,63}$", var.slot_name))
    error_message = "slot_name: 1 to 63 characters of a-z, 0-9 and _ (PostgreSQL's rule for slot names)."
  }
}

variable "plugin_name" {
  description = "plugin.name: the slot's logical decoding plugin. The wal2json names all read a wal2json slot (the extension must be installed and, on 2026 minor releases, allowed by output_plugin_libraries); pgoutput is PostgreSQL's own plugin, read through publication_name. An existing slot must be of this plugin."
  type        = string
  default     = "wal2json"

  validation {
    condition     = contains(["wal2json", "wal2json_streaming", "wal2json_rds", "wal2json_rds_streaming", "pgoutput"], var.plugin_name)
    error_message = "plugin_name: wal2json, wal2json_streaming, wal2json_rds, wal2json_rds_streaming or pgoutput."
  }
}

variable "publication_name" {
  description = "publication.name (pgoutput only): the publication the slot is read through, used as PostgreSQL stores the name (case and all)."
  type        = string
  default     = "dbz_publication"

  validation {
    condition     = length(var.publication_name) >= 1 && length(var.publication_name) <= 63
    error_message = "publication_name: 1 to 63 characters (PostgreSQL's limit for names)."
  }
}

variable "publication_autocreate_mode" {
  description = "publication.autocreate.mode (pgoutput only), what walbridge does about the publication: all_tables creates a missing one FOR ALL TABLES (needs a superuser; tables without a key then need REPLICA IDENTITY FULL for updates and deletes); filtered creates it FOR TABLE the captured tables and sets it back to them each invocation; no_tables creates it empty; disabled never creates it. A missing publication is created only together with the slot."
  type        = string
  default     = "all_tables"

  validation {
    condition     = contains(["all_tables", "filtered", "no_tables", "disabled"], var.publication_autocreate_mode)
    error_message = "publication_autocreate_mode: all_tables, filtered, no_tables or disabled."
  }
}

variable "publish_via_partition_root" {
  description = "publish.via.partition.root (pgoutput only; the plan refuses true with a wal2json plugin_name): true creates the publication WITH (publish_via_partition_root = true), so a partition's changes are published as its partitioned root's (the root's topic, schema and source.table) and table_include_list names the root, not its partitions; an existing publication must say the same."
  type        = bool
  default     = false
}

variable "table_include_list" {
  description = "table.include.list (comma-separated schema.table, * for any; empty = all tables)"
  type        = string
  default     = ""
}

# ------------------------------------------------------------------------------------------------ Kafka

variable "kafka_bootstrap_servers" {
  description = "kafka.bootstrap.servers (host:port, comma-separated)"
  type        = string
}

variable "topic_prefix" {
  description = "topic.prefix (topics are <prefix>.<schema>.<table>)"
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,200}$", var.topic_prefix))
    error_message = "topic_prefix: 1 to 200 characters of A-Z, a-z, 0-9, '.', '_' and '-'."
  }
}

variable "topic_creation_enable" {
  description = "topic.creation.enable: create missing topics on first use (with MSK IAM, the role then also gets kafka-cluster:CreateTopic on <prefix>.*)."
  type        = bool
  default     = true
}

variable "kafka_security_protocol" {
  description = "kafka.security.protocol. MSK IAM (and MSK Serverless, which only has it) is SASL_SSL with kafka_sasl_mechanism AWS_MSK_IAM on port 9098."
  type        = string
  default     = "PLAINTEXT"

  validation {
    condition     = contains(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"], var.kafka_security_protocol)
    error_message = "kafka_security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
  }
}

variable "kafka_ssl_truststore_location" {
  description = "kafka.ssl.truststore.location: absolute path of a PEM file of CA certificates for the brokers (SSL or SASL_SSL only), e.g. in the function zip (/var/task/...). null: the system's roots, which hold the CAs of MSK's broker certificates."
  type        = string
  default     = null

  validation {
    condition     = var.kafka_ssl_truststore_location == null || can(regex("^/", var.kafka_ssl_truststore_location))
    error_message = "kafka_ssl_truststore_location: an absolute path, or null."
  }
}

variable "kafka_sasl_mechanism" {
  description = "kafka.sasl.mechanism (SASL_PLAINTEXT or SASL_SSL only). AWS_MSK_IAM needs msk_cluster_arn; the others need kafka_sasl_username and kafka_sasl_secret_arn."
  type        = string
  default     = "PLAIN"

  validation {
    condition     = contains(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "AWS_MSK_IAM"], var.kafka_sasl_mechanism)
    error_message = "kafka_sasl_mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM."
  }
}

variable "kafka_sasl_username" {
  description = "kafka.sasl.username for PLAIN and SCRAM (a secret reference such as `$${secretsmanager:<kafka_sasl_secret_arn>:username}` works too)."
  type        = string
  default     = null
}

variable "kafka_sasl_secret_arn" {
  description = "Full ARN (with its 6-character suffix) of the Secrets Manager secret holding the SASL password for PLAIN and SCRAM (JSON, as MSK's AmazonMSK_ SCRAM secrets are). The function gets `KAFKA_SASL_PASSWORD=$${secretsmanager:<arn>:<kafka_sasl_secret_key>}`; the role may read this secret only."
  type        = string
  default     = null

  validation {
    condition     = var.kafka_sasl_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.kafka_sasl_secret_arn))
    error_message = "kafka_sasl_secret_arn: the full ARN of a Secrets Manager secret, or null."
  }
}

variable "kafka_sasl_secret_key" {
  description = "JSON key of the SASL password inside kafka_sasl_secret_arn."
  type        = string
  default     = "password"
}

variable "kafka_sasl_secret_kms_key_arn" {
  description = "Customer-managed KMS key kafka_sasl_secret_arn is encrypted with (MSK requires one for SCRAM secrets); null for the AWS-managed key."
  type        = string
  default     = null
}

variable "msk_cluster_arn" {
  description = "With AWS_MSK_IAM: the MSK cluster's ARN. The role gets kafka-cluster:Connect on it, and DescribeTopic, ReadData (the last record of a partition is read back after a failed publish), WriteData (and CreateTopic with topic_creation_enable) on the topics <topic_prefix>.* only."
  type        = string
  default     = null

  validation {
    condition     = var.msk_cluster_arn == null || can(regex("^arn:aws[a-z-]*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/[^/]+/[^/]+$", var.msk_cluster_arn))
    error_message = "msk_cluster_arn: the ARN of an MSK cluster (provisioned or serverless), or null."
  }
}

variable "ssm_parameter_arns" {
  description = "ARNs of the SSM parameters that `$${ssm:<name>}` references in any value read (e.g. in extra_environment); the role gets ssm:GetParameter on exactly these."
  type        = list(string)
  default     = []
}

variable "ssm_parameter_kms_key_arn" {
  description = "Customer-managed KMS key the SecureString parameters are encrypted with; null for the AWS-managed key (aws/ssm)."
  type        = string
  default     = null
}

variable "extra_environment" {
  description = "Further configuration keys as environment variables (e.g. TOMBSTONES_ON_DELETE = \"false\"); a variable this module sets itself is refused (set it through the module's variable)."
  type        = map(string)
  default     = {}
}

# ------------------------------------------------------------------------------------ schedule, windows

variable "schedule_expression" {
  description = "EventBridge Scheduler expression that wakes the function (smallest rate: one minute; for every N seconds use poll_interval_ms)."
  type        = string
  default     = "rate(1 minute)"
}

variable "schedule_enabled" {
  description = "false deploys everything but does not wake the function (manual invokes only)."
  type        = bool
  default     = true
}

variable "poll_interval_ms" {
  description = "poll.interval.ms: a scheduled invocation relays again every this many ms (0: one pass)."
  type        = number
  default     = 0
}

variable "poll_duration_ms" {
  description = "poll.duration.ms: how long one invocation keeps polling (0: until the time budget ends); keep it below the schedule's rate."
  type        = number
  default     = 0
}

variable "window_max_changes" {
  description = "window.max.changes (rows per peek at most; 0: no row limit, windows bounded by the WAL they decode)"
  type        = number
  default     = 0
}

# ------------------------------------------------------------------------------ checkpoint and alarms

variable "checkpoint_bucket_name" {
  description = "Name of the checkpoint bucket the module creates; null: generated from `name`."
  type        = string
  default     = null
}

variable "checkpoint_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the checkpoint bucket with its objects (the relay's position)."
  type        = bool
  default     = false
}

variable "checkpoint_version_retention_days" {
  description = "Days superseded versions of the checkpoint object are kept (it is rewritten after every window)."
  type        = number
  default     = 7
}

variable "alarm_topic_arn" {
  description = "Existing SNS topic for the alarms; null creates one."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "Optional e-mail address subscribed to the alarm topic."
  type        = string
  default     = null
}

variable "alarm_period_seconds" {
  description = "Period of the lag alarms; at least the schedule's rate (a period without LagBytes counts as breaching)."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 600, 900, 1800, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds: 60, 300, 600, 900, 1800 or 3600."
  }
}

variable "lag_bytes_threshold" {
  description = "Alarm when the slot lags by more than this many bytes of WAL for 3 periods."
  type        = number
  default     = 1073741824
}

variable "lag_seconds_threshold" {
  description = "Alarm when the last relayed commit is older than this many seconds for 3 periods."
  type        = number
  default     = 900
}

variable "safe_wal_bytes_threshold" {
  description = "Alarm when the slot can take less than this many more bytes of WAL before PostgreSQL removes WAL it needs (safe_wal_size, reported only when max_slot_wal_keep_size bounds it)."
  type        = number
  default     = 1073741824
}

variable "skipped_alarm_periods" {
  description = "Alarm when every invocation was skipped (another session held the slot's advisory lock) for this many consecutive alarm periods."
  type        = number
  default     = 3
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}
