# An example root module: walbridge for one database and one slot, with alarms mailed to one address.
#
#   cargo lambda build --release --arm64 --output-format zip -p walbridge    # in the repository root
#   zip -j target/lambda/walbridge/bootstrap.zip global-bundle.pem           # the RDS CA bundle (infra/README.md)
#   cd infra/examples/basic
#   cp terraform.tfvars.example terraform.tfvars                             # and fill it in
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.27, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}

module "walbridge" {
  source = "../../modules/walbridge"

  function_zip = "${path.module}/../../../target/lambda/walbridge/bootstrap.zip"
  architecture = "arm64"

  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  database_hostname   = var.database_hostname
  database_dbname     = var.database_dbname
  database_user       = var.database_user
  database_secret_arn = var.database_secret_arn
  slot_name           = var.slot_name
  table_include_list  = var.table_include_list

  kafka_bootstrap_servers = var.kafka_bootstrap_servers
  topic_prefix            = var.topic_prefix
  # Amazon MSK with IAM (bootstrap brokers on port 9098):
  #   kafka_security_protocol = "SASL_SSL"
  #   kafka_sasl_mechanism    = "AWS_MSK_IAM"
  #   msk_cluster_arn         = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/…"

  schedule_expression = "rate(1 minute)"
  alarm_email         = var.alarm_email
}
