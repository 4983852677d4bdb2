//! walbridge's integration tests: one binary, a module per area, against the real services
//! (`eval "$(tests/env/up)"` starts them; `./scripts/test` runs everything).

mod case;
mod connect;
mod crash;
mod differential;
mod filters;
mod golden;
mod kafka_options;
mod kafka_security;
mod lambda;
mod relay;
mod relay_failures;
mod secrets;
mod smoke;
mod snapshot;
mod tls;
mod validate;
