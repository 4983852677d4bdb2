# walbridge as one scheduled Lambda function in the database's VPC: the function, its role with
# least-privilege policies, the checkpoint bucket, the schedule, the on-failure queue, the alarms and
# the log group. The same resources as ../../../template.yaml (SAM).
#
# Metrics the lag and skip alarms read (CloudWatch Embedded Metric Format, one record per relaying
# invocation, written by the function to stdout; see shared/walbridge-relay/src/metrics.rs):
#   namespace  walbridge
#   dimension  Slot = <slot.name>        (the dimension set is exactly [Slot])
#   metrics    LagBytes (Bytes), LagSeconds (Seconds, absent when unknown), Skipped (Count: 1 when the
#              slot's advisory lock was held by another session), Changes, Events, Windows, DurationMs

locals {
  checkpoint_prefix = "walbridge/${var.slot_name}/"
  checkpoint_uri    = "s3://${aws_s3_bucket.checkpoint.id}/${local.checkpoint_prefix}checkpoint.json"
  alarm_topic_arn   = var.alarm_topic_arn != null ? var.alarm_topic_arn : aws_sns_topic.alarms[0].arn
  # the function's region, for the dashboard's widgets (no data source, whose attribute changed name)
  region = split(":", aws_lambda_function.walbridge.arn)[3]

  database_verifies_certificate = contains(["verify-ca", "verify-full"], var.database_sslmode)
  kafka_uses_sasl               = contains(["SASL_PLAINTEXT", "SASL_SSL"], var.kafka_security_protocol)
  kafka_uses_tls                = contains(["SSL", "SASL_SSL"], var.kafka_security_protocol)
  kafka_uses_msk_iam            = local.kafka_uses_sasl && var.kafka_sasl_mechanism == "AWS_MSK_IAM"
  kafka_uses_sasl_secret        = local.kafka_uses_sasl && var.kafka_sasl_mechanism != "AWS_MSK_IAM"
  # arn:...:cluster/<name>/<uuid> -> arn:...:topic/<name>/<uuid>/<prefix>.*: the topics walbridge writes
  msk_topics_arn = var.msk_cluster_arn == null ? null : "${replace(var.msk_cluster_arn, ":cluster/", ":topic/")}/${var.topic_prefix}.*"

  # Configuration keys as environment variables (upper case, '.' -> '_').
  environment = {
    DATABASE_HOSTNAME = var.database_hostname
    DATABASE_PORT     = tostring(var.database_port)
    DATABASE_DBNAME   = var.database_dbname
    DATABASE_USER     = var.database_user
    # A KIP-297 style config-provider reference that the function resolves at cold start (the JSON
    # key is the text after the last ':'); the password itself never enters Terraform's state.
    DATABASE_PASSWORD = "$${secretsmanager:${var.database_secret_arn}:${var.database_secret_key}}"
    DATABASE_SSLMODE  = var.database_sslmode
    # only where it is used (verify-ca, verify-full): with another mode the function would warn at
    # every cold start that the default bundle is not used
    DATABASE_SSLROOTCERT          = local.database_verifies_certificate && var.database_sslrootcert != null ? var.database_sslrootcert : ""
    SLOT_NAME                     = var.slot_name
    PLUGIN_NAME                   = var.plugin_name
    PUBLICATION_NAME              = var.publication_name
    PUBLICATION_AUTOCREATE_MODE   = var.publication_autocreate_mode
    PUBLISH_VIA_PARTITION_ROOT    = tostring(var.publish_via_partition_root)
    TABLE_INCLUDE_LIST            = var.table_include_list
    TOPIC_PREFIX                  = var.topic_prefix
    KAFKA_BOOTSTRAP_SERVERS       = var.kafka_bootstrap_servers
    TOPIC_CREATION_ENABLE         = tostring(var.topic_creation_enable)
    KAFKA_SECURITY_PROTOCOL       = var.kafka_security_protocol
    KAFKA_SSL_TRUSTSTORE_LOCATION = var.kafka_ssl_truststore_location != null ? var.kafka_ssl_truststore_location : ""
    # set only with a SASL protocol, where the function reads them (the preconditions refuse the rest)
    KAFKA_SASL_MECHANISM = local.kafka_uses_sasl ? var.kafka_sasl_mechanism : ""
    KAFKA_SASL_USERNAME  = local.kafka_uses_sasl_secret && var.kafka_sasl_username != null ? var.kafka_sasl_username : ""
    # a reference resolved at cold start, like DATABASE_PASSWORD: the password never enters Terraform
    KAFKA_SASL_PASSWORD = local.kafka_uses_sasl_secret && var.kafka_sasl_secret_arn != null ? "$${secretsmanager:${var.kafka_sasl_secret_arn}:${var.kafka_sasl_secret_key}}" : ""
    CHECKPOINT_URI      = local.checkpoint_uri
    WINDOW_MAX_CHANGES  = tostring(var.window_max_changes)
    POLL_INTERVAL_MS    = tostring(var.poll_interval_ms)
    POLL_DURATION_MS    = tostring(var.poll_duration_ms)
    # the function compares it with PostgreSQL 18's idle_replication_slot_timeout (status, validate)
    SCHEDULE_EXPRESSION = var.schedule_expression
    RUST_LOG            = var.log_level
  }
}

# ---------------------------------------------------------------------------------------------- logs

resource "aws_cloudwatch_log_group" "walbridge" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# ---------------------------------------------------------------------------------------------- role

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "walbridge" {
  name               = "${var.name}-function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "walbridge" {
  # The network interfaces of a function in a VPC (what AWSLambdaVPCAccessExecutionRole grants, less
  # its logs:* on every log group); EC2 does not scope these to resources.
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.walbridge.arn}:*"]
  }

  statement {
    sid       = "CheckpointObject"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.checkpoint.arn}/${local.checkpoint_prefix}*"]
  }

  # The write probe beside the checkpoint (conditional writes checked once per cold start and by
  # validate) is removed again; the checkpoint itself can never be deleted.
  statement {
    sid       = "CheckpointProbeCleanup"
    actions   = ["s3:DeleteObject"]
    resources = ["${aws_s3_bucket.checkpoint.arn}/${local.checkpoint_prefix}checkpoint.json.probe"]
  }

  # Without ListBucket, S3 answers a read of a missing key with 403 instead of 404, and the first
  # invocation (no checkpoint yet) would fail. The bucket holds only this module's checkpoint.
  statement {
    sid       = "CheckpointMissingIs404"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.checkpoint.arn]
  }

  statement {
    sid       = "DatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_secret_arn]
  }

  dynamic "statement" {
    for_each = var.database_secret_kms_key_arn != null ? [var.database_secret_kms_key_arn] : []
    content {
      sid       = "DatabaseSecretKey"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["secretsmanager.*.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.kafka_uses_sasl_secret && var.kafka_sasl_secret_arn != null ? [var.kafka_sasl_secret_arn] : []
    content {
      sid       = "KafkaSaslSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.kafka_uses_sasl_secret && var.kafka_sasl_secret_kms_key_arn != null ? [var.kafka_sasl_secret_kms_key_arn] : []
    content {
      sid       = "KafkaSaslSecretKey"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["secretsmanager.*.amazonaws.com"]
      }
    }
  }

  # MSK IAM (the only authentication of MSK Serverless): the signed token is a kafka-cluster:Connect
  # request; the topics are <prefix>.* of this cluster only. No group ARN: walbridge only produces,
  # and reads a partition's last record back without a consumer group.
  dynamic "statement" {
    for_each = local.kafka_uses_msk_iam && var.msk_cluster_arn != null ? [var.msk_cluster_arn] : []
    content {
      sid       = "MskConnect"
      actions   = ["kafka-cluster:Connect"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.kafka_uses_msk_iam && local.msk_topics_arn != null ? [local.msk_topics_arn] : []
    content {
      sid       = "MskTopics"
      actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.kafka_uses_msk_iam && var.topic_creation_enable && local.msk_topics_arn != null ? [local.msk_topics_arn] : []
    content {
      sid       = "MskCreateTopics"
      actions   = ["kafka-cluster:CreateTopic"]
      resources = [statement.value]
    }
  }

  # ${ssm:...} references in any value (the function resolves them at cold start)
  dynamic "statement" {
    for_each = length(var.ssm_parameter_arns) > 0 ? [var.ssm_parameter_arns] : []
    content {
      sid       = "SecretReferenceParameters"
      actions   = ["ssm:GetParameter"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(var.ssm_parameter_arns) > 0 && var.ssm_parameter_kms_key_arn != null ? [var.ssm_parameter_kms_key_arn] : []
    content {
      sid       = "SecretReferenceParametersKey"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["ssm.*.amazonaws.com"]
      }
    }
  }

  # the on-failure destination of asynchronous invocations is sent with the function's role
  statement {
    sid       = "FailureQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failure.arn]
  }
}

resource "aws_iam_role_policy" "walbridge" {
  name   = "${var.name}-function"
  role   = aws_iam_role.walbridge.id
  policy = data.aws_iam_policy_document.walbridge.json
}

# ------------------------------------------------------------------------------------------ function

resource "aws_lambda_function" "walbridge" {
  function_name    = var.name
  description      = "walbridge - PostgreSQL logical slot to Kafka (Debezium events)"
  role             = aws_iam_role.walbridge.arn
  filename         = var.function_zip
  source_code_hash = filebase64sha256(var.function_zip)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout
  # one task per slot, as Debezium's tasks.max=1; walbridge also fences with an advisory lock
  reserved_concurrent_executions = 1

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  # an empty value is an unset key to the function: left out rather than set blank
  environment {
    variables = merge(var.extra_environment, { for k, v in local.environment : k => v if v != "" })
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.walbridge.name
  }

  tags = var.tags

  # Contradictory connectivity settings fail the plan: each would otherwise be accepted and silently
  # not used (or grant access nothing uses).
  lifecycle {
    precondition {
      condition     = var.kafka_sasl_mechanism == "PLAIN" || local.kafka_uses_sasl
      error_message = "kafka_sasl_mechanism other than PLAIN needs kafka_security_protocol SASL_PLAINTEXT or SASL_SSL."
    }
    precondition {
      condition     = !local.kafka_uses_msk_iam || (var.kafka_security_protocol == "SASL_SSL" && var.msk_cluster_arn != null && var.kafka_sasl_secret_arn == null && var.kafka_sasl_username == null)
      error_message = "AWS_MSK_IAM needs kafka_security_protocol SASL_SSL and msk_cluster_arn, and uses the function's role, not kafka_sasl_username/kafka_sasl_secret_arn."
    }
    precondition {
      condition     = var.msk_cluster_arn == null || local.kafka_uses_msk_iam
      error_message = "msk_cluster_arn is used only with kafka_security_protocol SASL_SSL and kafka_sasl_mechanism AWS_MSK_IAM."
    }
    precondition {
      condition     = !local.kafka_uses_sasl_secret || (var.kafka_sasl_username != null && var.kafka_sasl_secret_arn != null)
      error_message = "PLAIN and SCRAM need kafka_sasl_username and kafka_sasl_secret_arn (the password never is a variable)."
    }
    precondition {
      condition     = local.kafka_uses_sasl_secret || (var.kafka_sasl_username == null && var.kafka_sasl_secret_arn == null && var.kafka_sasl_secret_kms_key_arn == null)
      error_message = "kafka_sasl_username, kafka_sasl_secret_arn and kafka_sasl_secret_kms_key_arn need kafka_security_protocol SASL_PLAINTEXT or SASL_SSL with PLAIN or SCRAM."
    }
    precondition {
      condition     = var.kafka_sasl_secret_kms_key_arn == null || var.kafka_sasl_secret_arn != null
      error_message = "kafka_sasl_secret_kms_key_arn needs kafka_sasl_secret_arn."
    }
    precondition {
      condition     = !var.publish_via_partition_root || var.plugin_name == "pgoutput"
      error_message = "publish_via_partition_root needs plugin_name pgoutput (wal2json reports leaf partitions only)."
    }
    precondition {
      condition     = var.kafka_ssl_truststore_location == null || local.kafka_uses_tls
      error_message = "kafka_ssl_truststore_location needs kafka_security_protocol SSL or SASL_SSL."
    }
    precondition {
      condition     = var.ssm_parameter_kms_key_arn == null || length(var.ssm_parameter_arns) > 0
      error_message = "ssm_parameter_kms_key_arn needs ssm_parameter_arns."
    }
    precondition {
      condition     = length(setintersection(keys(var.extra_environment), keys(local.environment))) == 0
      error_message = "extra_environment sets a variable this module sets itself (it would be overridden): use the module's variable for it."
    }
  }

  depends_on = [aws_iam_role_policy.walbridge]
}

# Asynchronous invocations (the schedule's): no retry of a failed invocation (the next scheduled one
# resumes from the checkpoint), and an event throttled because an invocation is still running
# (reserved concurrency 1) expires after 60 s instead of Lambda's default 6 hours, so wake-ups never
# pile up. Both end in the failure queue.
resource "aws_lambda_function_event_invoke_config" "walbridge" {
  function_name                = aws_lambda_function.walbridge.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failure.arn
    }
  }
}

# ---------------------------------------------------------------------------------------- checkpoint

resource "aws_s3_bucket" "checkpoint" {
  # a generated name's prefix has at most 37 characters, and no '_'
  bucket        = var.checkpoint_bucket_name
  bucket_prefix = var.checkpoint_bucket_name == null ? "${substr(replace(lower(var.name), "_", "-"), 0, 25)}-checkpoint-" : null
  force_destroy = var.checkpoint_bucket_force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_versioning" "checkpoint" {
  bucket = aws_s3_bucket.checkpoint.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "checkpoint" {
  bucket = aws_s3_bucket.checkpoint.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "checkpoint" {
  bucket                  = aws_s3_bucket.checkpoint.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "checkpoint" {
  bucket = aws_s3_bucket.checkpoint.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "checkpoint" {
  bucket = aws_s3_bucket.checkpoint.id

  rule {
    id     = "expire-superseded-checkpoints"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.checkpoint_version_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.checkpoint]
}

data "aws_iam_policy_document" "checkpoint_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.checkpoint.arn, "${aws_s3_bucket.checkpoint.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "checkpoint" {
  bucket = aws_s3_bucket.checkpoint.id
  policy = data.aws_iam_policy_document.checkpoint_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.checkpoint]
}

# ------------------------------------------------------------------------------------- failure queue

resource "aws_sqs_queue" "failure" {
  name                      = "${var.name}-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

# ------------------------------------------------------------------------------------------ schedule

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-schedule"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "Invoke"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.walbridge.arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failure.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${var.name}-schedule"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "walbridge" {
  name                = var.name
  description         = "wakes walbridge to relay the slot"
  schedule_expression = var.schedule_expression
  state               = var.schedule_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.walbridge.arn
    role_arn = aws_iam_role.scheduler.arn
    # no mode: relay (manual invokes send {"mode":"catchup"} or {"mode":"status"})
    input = "{}"

    # a wake-up that cannot be delivered is dropped, not retried: the next one comes soon
    retry_policy {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 60
    }

    dead_letter_config {
      arn = aws_sqs_queue.failure.arn
    }
  }
}

# -------------------------------------------------------------------------------------------- alarms

resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arn == null ? 1 : 0
  name  = "${var.name}-alarms"
  tags  = var.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.alarm_email != null ? 1 : 0
  topic_arn = local.alarm_topic_arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "walbridge invocations failed (see the log group and the failure queue)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.walbridge.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}-throttles"
  alarm_description   = "walbridge invocations were throttled: a wake-up or a manual invoke came while an invocation was still running"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.walbridge.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lag_bytes" {
  alarm_name          = "${var.name}-lag-bytes"
  alarm_description   = "the replication slot lags (walbridge LagBytes above the threshold), or no relaying invocation reported its lag (missing data is breaching)"
  namespace           = "walbridge"
  metric_name         = "LagBytes"
  dimensions          = { Slot = var.slot_name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = var.lag_bytes_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lag_seconds" {
  alarm_name          = "${var.name}-lag-seconds"
  alarm_description   = "walbridge is behind: the last commit it relayed is older than the threshold (absent when unknown, so missing data is not breaching)"
  namespace           = "walbridge"
  metric_name         = "LagSeconds"
  dimensions          = { Slot = var.slot_name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = var.lag_seconds_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "skipped" {
  alarm_name          = "${var.name}-skipped"
  alarm_description   = "every walbridge invocation was skipped: another session holds the slot's advisory lock (a long local walbridge invoke, or a backend still running after its invocation was killed), so nothing is relayed (missing data is not breaching; the lag-bytes alarm covers silence)"
  namespace           = "walbridge"
  metric_name         = "Skipped"
  dimensions          = { Slot = var.slot_name }
  statistic           = "Minimum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.skipped_alarm_periods
  datapoints_to_alarm = var.skipped_alarm_periods
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "wal_status" {
  alarm_name          = "${var.name}-wal-status"
  alarm_description   = "the slot's WAL is unreserved (past max_slot_wal_keep_size, about to be removed) or lost (the slot is invalid): catch up now or the changes since the slot's position are lost; once lost, the function's error names the recovery"
  namespace           = "walbridge"
  metric_name         = "WalStatus"
  dimensions          = { Slot = var.slot_name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "safe_wal_bytes" {
  alarm_name          = "${var.name}-safe-wal-bytes"
  alarm_description   = "the slot is close to losing WAL it needs (safe_wal_size below safe_wal_bytes_threshold): it falls behind faster than it relays; catch up before PostgreSQL invalidates it"
  namespace           = "walbridge"
  metric_name         = "SafeWalBytes"
  dimensions          = { Slot = var.slot_name }
  statistic           = "Minimum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = var.safe_wal_bytes_threshold
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

# ----------------------------------------------------------------------------------------- dashboard

# What an operator looks at first: the alarms, the slot's lag and WAL, throughput, duration, errors and
# skips (the same widgets as template.yaml's; tests/infra/check compares their metrics).
resource "aws_cloudwatch_dashboard" "walbridge" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    start = "-PT6H"
    widgets = [
      {
        type = "alarm", x = 0, y = 0, width = 24, height = 3
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.lag_bytes.arn, aws_cloudwatch_metric_alarm.lag_seconds.arn,
            aws_cloudwatch_metric_alarm.safe_wal_bytes.arn, aws_cloudwatch_metric_alarm.wal_status.arn,
            aws_cloudwatch_metric_alarm.errors.arn, aws_cloudwatch_metric_alarm.throttles.arn,
            aws_cloudwatch_metric_alarm.skipped.arn,
          ]
        }
      },
      {
        type = "metric", x = 0, y = 3, width = 12, height = 6
        properties = {
          title  = "Lag (bytes of WAL behind the server; and decoded again by every window)", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            ["walbridge", "LagBytes", "Slot", var.slot_name, { stat = "Maximum", label = "LagBytes" }],
            ["walbridge", "RestartLagBytes", "Slot", var.slot_name, { stat = "Maximum", label = "RestartLagBytes" }],
          ]
          annotations = { horizontal = [{ label = "alarm", value = var.lag_bytes_threshold }] }
          yAxis       = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 12, y = 3, width = 12, height = 6
        properties = {
          title  = "Lag (seconds since the last relayed commit)", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            ["walbridge", "LagSeconds", "Slot", var.slot_name, { stat = "Maximum", label = "LagSeconds" }],
          ]
          annotations = { horizontal = [{ label = "alarm", value = var.lag_seconds_threshold }] }
          yAxis       = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 0, y = 9, width = 12, height = 6
        properties = {
          title  = "Safe WAL (bytes before PostgreSQL removes WAL the slot needs)", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            ["walbridge", "SafeWalBytes", "Slot", var.slot_name, { stat = "Minimum", label = "SafeWalBytes" }],
          ]
          annotations = { horizontal = [{ label = "alarm", value = var.safe_wal_bytes_threshold }] }
          yAxis       = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 12, y = 9, width = 12, height = 6
        properties = {
          title  = "WAL status (0 reserved, 1 extended, 2 unreserved, 3 lost)", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            ["walbridge", "WalStatus", "Slot", var.slot_name, { stat = "Maximum", label = "WalStatus" }],
          ]
          annotations = { horizontal = [{ label = "unreserved", value = 2 }, { label = "lost", value = 3 }] }
          yAxis       = { left = { min = 0, max = 3 } }
        }
      },
      {
        type = "metric", x = 0, y = 15, width = 12, height = 6
        properties = {
          title  = "Events and changes per second", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            [{ expression = "events / PERIOD(events)", label = "events/s", id = "eventsRate" }],
            [{ expression = "changes / PERIOD(changes)", label = "changes/s", id = "changesRate" }],
            ["walbridge", "Events", "Slot", var.slot_name, { stat = "Sum", id = "events", visible = false }],
            ["walbridge", "Changes", "Slot", var.slot_name, { stat = "Sum", id = "changes", visible = false }],
          ]
          yAxis = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 12, y = 15, width = 12, height = 6
        properties = {
          title  = "Invocation duration (seconds)", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            [{ expression = "durationMax / 1000", label = "maximum", id = "durationMaxSeconds" }],
            [{ expression = "durationAvg / 1000", label = "average", id = "durationAvgSeconds" }],
            ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.walbridge.function_name, { stat = "Maximum", id = "durationMax", visible = false }],
            ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.walbridge.function_name, { stat = "Average", id = "durationAvg", visible = false }],
          ]
          annotations = { horizontal = [{ label = "timeout", value = var.timeout }] }
          yAxis       = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 0, y = 21, width = 12, height = 6
        properties = {
          title  = "Errors (failed, throttled invocations)", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.walbridge.function_name, { stat = "Sum", label = "Errors" }],
            ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.walbridge.function_name, { stat = "Sum", label = "Throttles" }],
            ["walbridge", "Failed", "Slot", var.slot_name, { stat = "Sum", label = "Failed after reading the slot" }],
          ]
          yAxis = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 12, y = 21, width = 12, height = 6
        properties = {
          title  = "Skipped invocations (slot locked by another session)", region = local.region, view = "timeSeries"
          period = var.alarm_period_seconds
          metrics = [
            ["walbridge", "Skipped", "Slot", var.slot_name, { stat = "Sum", label = "Skipped" }],
            ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.walbridge.function_name, { stat = "Sum", label = "Invocations" }],
          ]
          yAxis = { left = { min = 0 } }
        }
      },
    ]
  })
}
