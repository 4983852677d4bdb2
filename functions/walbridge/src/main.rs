//! The walbridge function. On Lambda it serves invocations (a schedule or a manual invoke); outside
//! Lambda, `walbridge invoke [EVENT_JSON]` runs exactly one invocation through the same handler,
//! prints the response JSON and exits non-zero on failure, and `walbridge status` is
//! `invoke '{"mode":"status"}'`. `walbridge validate [--json]` checks every property and then each
//! service, moving nothing, prints a table (or the JSON report) and exits 0 only when all passed.
//!
//! Logs are JSON lines on Lambda (or with `WALBRIDGE_LOG_FORMAT=json`); each relaying invocation
//! also writes one CloudWatch Embedded Metric Format record (stdout on Lambda, stderr locally, where
//! stdout holds the response).
//!
//! Configuration is read and validated once, at cold start: an invalid value fails the start, before
//! any invocation.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use walbridge_relay::{Aws, Bootstrap, Deps, RelayError, Request, Response, error_chain};

/// A failed invocation, as Lambda reports it: `errorType` says what to do, `errorMessage` the chain.
#[derive(Debug)]
struct InvocationFailed(RelayError);

impl From<InvocationFailed> for Diagnostic {
    fn from(failed: InvocationFailed) -> Self {
        Diagnostic {
            error_type: failed.0.kind().as_str().to_owned(),
            error_message: error_chain(&failed.0),
        }
    }
}

/// The invocation's deadline: Lambda's, or the configured local budget when there is none.
fn deadline(event: &LambdaEvent<Value>, deps: &Deps) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let budget = match event.context.deadline {
        0 => deps.config().invocation.local_time_budget,
        // cargo-lambda's emulator (1.9) sends the timeout itself (600 000) where Lambda sends an
        // epoch deadline: a "deadline" decades in the past can only be that.
        relative_ms if relative_ms + 86_400_000 < now_ms => Duration::from_millis(relative_ms),
        deadline_ms => Duration::from_millis(deadline_ms.saturating_sub(now_ms)),
    };
    tracing::info!(
        budget_ms = budget.as_millis() as u64,
        deadline_ms = event.context.deadline,
        "invocation started"
    );
    Instant::now() + budget
}

/// Where the EMF record goes: stdout on Lambda (CloudWatch reads it), stderr for a local run.
#[derive(Debug, Clone, Copy)]
enum MetricsOut {
    Stdout,
    Stderr,
}

/// A schedule's event has no `mode`: it relays. `{"mode":"catchup"}` and `{"mode":"status"}`
/// come from a person.
async fn handle(
    event: LambdaEvent<Value>,
    deps: &Deps,
    metrics: MetricsOut,
) -> Result<Response, InvocationFailed> {
    let request: Request = serde_json::from_value(event.payload.clone())
        .map_err(|err| InvocationFailed(RelayError::BadRequest(err.to_string())))?;
    let result = walbridge_relay::handle(deps, &request, deadline(&event, deps)).await;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let slot = &deps.config().slot.name;
    let record = match &result {
        Ok(Response::Relayed(report)) => {
            let mut record = walbridge_relay::metrics::emf_record(slot, report, now_ms);
            if let Some(health) = deps.slot_health() {
                walbridge_relay::metrics::add_health(&mut record, &health);
            }
            Some(record)
        }
        // What the watchdog read before the failure: the lag alarms see a failing pipeline too.
        Err(_) if request.relays() => deps
            .slot_health()
            .map(|health| walbridge_relay::metrics::emf_failure_record(slot, &health, now_ms)),
        _ => None,
    };
    if let Some(record) = record {
        match metrics {
            MetricsOut::Stdout => println!("{record}"),
            MetricsOut::Stderr => eprintln!("{record}"),
        }
    }
    result.map_err(InvocationFailed)
}

// One thread: an invocation is one sequential data path; a second worker only adds wake-ups
// between threads (futex system calls) to every message PostgreSQL and Kafka send.
/// mimalloc: a record's buffers are allocated and freed by the hundred thousand per second, where
/// glibc's allocator took a sixth of the CPU per change. Built without transparent huge pages
/// (the workspace's `no_thp`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rskafka=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    if on_lambda || std::env::var("WALBRIDGE_LOG_FORMAT").as_deref() == Ok("json") {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }

    // Crash tests arm failpoints through FAILPOINTS; release builds have none.
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();

    let mut args = std::env::args().skip(1);
    let command = args.next();
    let payload: Option<Value> = match command.as_deref() {
        None => None,
        Some("invoke") => Some(match args.next() {
            Some(text) => serde_json::from_str(&text).context("EVENT_JSON is not JSON")?,
            None => Value::Object(Default::default()),
        }),
        Some("status") => Some(serde_json::json!({"mode": "status"})),
        Some("validate") => {
            let json = match args.next().as_deref() {
                None => false,
                Some("--json") => true,
                Some(other) => {
                    anyhow::bail!("unknown option {other:?}: use `walbridge validate [--json]`")
                }
            };
            let report = Bootstrap::from_env(Aws::default()).await?.validate().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            std::process::exit(if report.passed { 0 } else { 1 });
        }
        Some(other) => {
            anyhow::bail!(
                "unknown command {other:?}: use `walbridge invoke [EVENT_JSON]`, `walbridge status` \
                 or `walbridge validate [--json]`"
            )
        }
    };

    let deps = Bootstrap::from_env(Aws::default()).await?.deps().await?;

    let Some(payload) = payload else {
        return lambda_runtime::run(service_fn(|event| handle(event, &deps, MetricsOut::Stdout)))
            .await
            .map_err(|err| anyhow::anyhow!(err));
    };
    let event = LambdaEvent::new(payload, Default::default());
    match handle(event, &deps, MetricsOut::Stderr).await {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Err(failed) => {
            let diagnostic = Diagnostic::from(failed);
            anyhow::bail!("{}: {}", diagnostic.error_type, diagnostic.error_message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reports_its_kind_and_whole_cause_chain() {
        let err = RelayError::Checkpoint(walbridge_relay::CheckpointError::Conflict {
            location: "s3://b/k".into(),
        });
        let diagnostic = Diagnostic::from(InvocationFailed(err));
        assert_eq!(diagnostic.error_type, "walbridge.Conflict");
        assert!(diagnostic.error_message.contains("s3://b/k"));
    }
}
