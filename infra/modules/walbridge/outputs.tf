output "function_name" {
  description = "Name of the function (aws lambda invoke --function-name ...)."
  value       = aws_lambda_function.walbridge.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.walbridge.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.walbridge.arn
}

output "checkpoint_bucket" {
  description = "Bucket that holds the checkpoint."
  value       = aws_s3_bucket.checkpoint.id
}

output "checkpoint_uri" {
  description = "checkpoint.uri the function uses."
  value       = local.checkpoint_uri
}

output "failure_queue_url" {
  description = "URL of the on-failure destination (failed, expired and throttled-out invocations)."
  value       = aws_sqs_queue.failure.url
}

output "failure_queue_arn" {
  description = "ARN of the on-failure destination."
  value       = aws_sqs_queue.failure.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = local.alarm_topic_arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.walbridge.name
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the slot (lag, WAL, throughput, duration, errors, skips)."
  value       = aws_cloudwatch_dashboard.walbridge.dashboard_name
}
