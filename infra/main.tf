# walbridge as a scheduled Lambda function. Configuration keys are Debezium connector properties as
# environment variables (upper case, '.' -> '_').

variable "function_zip" {
  description = "Path of the zip built by `cargo lambda build --release --compiler cargo --output-format zip -p walbridge`"
  type        = string
  default     = "../target/lambda/walbridge/bootstrap.zip"
}

variable "schedule_expression" {
  description = "How often the function wakes to relay the slot"
  type        = string
  default     = "rate(1 minute)"
}

variable "checkpoint_bucket" {
  description = "S3 bucket that holds the checkpoint object"
  type        = string
}

variable "environment" {
  description = "walbridge configuration: DATABASE_HOSTNAME, DATABASE_DBNAME, SLOT_NAME, TOPIC_PREFIX, KAFKA_BOOTSTRAP_SERVERS, ..."
  type        = map(string)
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "walbridge" {
  name               = "walbridge"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.walbridge.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

data "aws_iam_policy_document" "checkpoint" {
  statement {
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:aws:s3:::${var.checkpoint_bucket}/*"]
  }
}

resource "aws_iam_role_policy" "checkpoint" {
  role   = aws_iam_role.walbridge.id
  policy = data.aws_iam_policy_document.checkpoint.json
}

resource "aws_lambda_function" "walbridge" {
  function_name                  = "walbridge"
  role                           = aws_iam_role.walbridge.arn
  filename                       = var.function_zip
  source_code_hash               = filebase64sha256(var.function_zip)
  handler                        = "bootstrap"
  runtime                        = "provided.al2023"
  architectures                  = ["x86_64"]
  memory_size                    = 256
  timeout                        = 300
  reserved_concurrent_executions = 1
  environment {
    variables = var.environment
  }
}

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = "walbridge-schedule"
  schedule_expression = var.schedule_expression
}

resource "aws_cloudwatch_event_target" "walbridge" {
  rule = aws_cloudwatch_event_rule.schedule.name
  arn  = aws_lambda_function.walbridge.arn
}

resource "aws_lambda_permission" "schedule" {
  statement_id  = "AllowSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.walbridge.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule.arn
}
