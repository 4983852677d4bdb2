terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # logging_config on aws_lambda_function needs 5.27; aws_scheduler_schedule 4.66
      version = ">= 5.27, < 7.0"
    }
  }
}
