variable "region" {
  description = "AWS region of the database's VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets that reach the database and the brokers."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the function."
  type        = list(string)
}

variable "database_hostname" {
  description = "database.hostname"
  type        = string
}

variable "database_dbname" {
  description = "database.dbname"
  type        = string
}

variable "database_user" {
  description = "database.user"
  type        = string
}

variable "database_secret_arn" {
  description = "Secrets Manager secret with the database password under the JSON key `password`."
  type        = string
}

variable "slot_name" {
  description = "slot.name"
  type        = string
  default     = "debezium"
}

variable "table_include_list" {
  description = "table.include.list (empty: all tables)"
  type        = string
  default     = ""
}

variable "kafka_bootstrap_servers" {
  description = "kafka.bootstrap.servers"
  type        = string
}

variable "topic_prefix" {
  description = "topic.prefix"
  type        = string
}

variable "alarm_email" {
  description = "E-mail address for the alarms (null: none)."
  type        = string
  default     = null
}
