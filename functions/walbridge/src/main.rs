//! The walbridge function: on Lambda it serves invocations; `walbridge invoke [EVENT_JSON]` runs one
//! invocation locally through the same handler and prints the response.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    // The relay lands with the core-relay issue; until then an invocation reports that plainly.
    let _ = event;
    Err("the relay is not built yet (issue 3)".into())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("invoke") => {
            let payload: Value = match args.next() {
                Some(text) => serde_json::from_str(&text)?,
                None => json!({}),
            };
            let response = handle(LambdaEvent::new(payload, Default::default())).await?;
            println!("{response}");
            Ok(())
        }
        Some(other) => {
            Err(format!("unknown command '{other}': use `walbridge invoke [EVENT_JSON]`").into())
        }
        None => lambda_runtime::run(service_fn(handle)).await,
    }
}
