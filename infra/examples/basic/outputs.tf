output "function_name" {
  description = "aws lambda invoke --function-name <this> ..."
  value       = module.walbridge.function_name
}

output "checkpoint_uri" {
  description = "Where the checkpoint lives."
  value       = module.walbridge.checkpoint_uri
}

output "failure_queue_url" {
  description = "Failed and throttled-out invocations."
  value       = module.walbridge.failure_queue_url
}
