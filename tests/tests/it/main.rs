//! walbridge's integration tests: one binary, a module per area, against the real services
//! (`eval "$(tests/env/up)"` starts them; `./scripts/test` runs everything).

mod avro;
mod case;
mod checkpoint_store;
mod connect;
mod crash;
mod delivery;
mod differential;
mod filters;
mod golden;
mod heartbeat;
mod kafka_options;
mod kafka_security;
mod lambda;
mod pgoutput;
mod redaction;
mod relay;
mod relay_failures;
mod secrets;
mod skipped;
mod smoke;
mod snapshot;
mod tls;
mod unsupported;
mod validate;
mod versions;
mod watchdog;
