//! The function under cargo-lambda's local Lambda runtime emulator (`cargo lambda watch` +
//! `cargo lambda invoke`), as a developer runs it: the Lambda code path, not `walbridge invoke`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use walbridge_tests as env;

use crate::case::{Case, lsn_of};

/// `cargo lambda watch`, stopped (with the function it runs) when dropped.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn cargo_lambda() -> Command {
    let python = PathBuf::from(env::var("WALBRIDGE_PYTHON"));
    let mut command = Command::new(python.parent().expect("venv bin").join("cargo-lambda"));
    command.arg("lambda");
    command
}

#[tokio::test]
async fn cargo_lambda_runs_the_function_like_lambda_does() {
    use std::os::unix::process::CommandExt as _;
    let case = Case::new("lambda", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 25)")
        .await;
    let dir = PathBuf::from(env::var("WALBRIDGE_ENV_DIR"))
        .join("private")
        .join(&case.schema);
    std::fs::create_dir_all(&dir).unwrap();
    let env_file = dir.join("function.env");
    std::fs::write(
        &env_file,
        [
            format!("DATABASE_HOSTNAME={}", env::var("PGHOST")),
            format!("DATABASE_PORT={}", env::var("PGPORT")),
            format!("DATABASE_USER={}", env::var("PGUSER")),
            format!("DATABASE_PASSWORD={}", env::var("PGPASSWORD")),
            format!("DATABASE_DBNAME={}", env::var("PGDATABASE")),
            format!("SLOT_NAME={}", case.slot),
            format!("TABLE_INCLUDE_LIST={}.t", case.schema),
            // Logical decoding messages are the whole database's: only this test's, as Case's
            // configurations have it (other tests emit theirs into the same WAL).
            format!("MESSAGE_PREFIX_INCLUDE_LIST={}\\..*", case.schema),
            format!("TOPIC_PREFIX={}", case.prefix),
            "VALUE_CONVERTER_SCHEMAS_ENABLE=false".to_owned(),
            "KEY_CONVERTER_SCHEMAS_ENABLE=false".to_owned(),
            "SNAPSHOT_MODE=no_data".to_owned(),
            format!("KAFKA_BOOTSTRAP_SERVERS={}", env::kafka_bootstrap()),
            format!(
                "CHECKPOINT_URI=s3://{}/{}",
                env::bucket(),
                case.checkpoint_key
            ),
            format!("AWS_ENDPOINT_URL_S3={}", env::var("AWS_ENDPOINT_URL_S3")),
            format!("AWS_ACCESS_KEY_ID={}", env::var("AWS_ACCESS_KEY_ID")),
            format!(
                "AWS_SECRET_ACCESS_KEY={}",
                env::var("AWS_SECRET_ACCESS_KEY")
            ),
            format!("AWS_REGION={}", env::var("AWS_REGION")),
        ]
        .join("\n"),
    )
    .unwrap();
    let port = env::free_port();
    let log = std::fs::File::create(dir.join("watch.log")).unwrap();
    // The same features as the suite's build of the binary, so cargo finds it up to date.
    let _watch = Watch(
        cargo_lambda()
            .args([
                "watch",
                "-p",
                "walbridge",
                "-F",
                "failpoints",
                "--ignore-changes",
            ])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .arg("--env-file")
            .arg(&env_file)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start cargo lambda watch"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let invoke = |payload: &str| {
        let output = cargo_lambda()
            .args([
                "invoke",
                "walbridge",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .args(["--data-ascii", payload])
            .stdin(Stdio::null())
            .output()
            .expect("cargo lambda invoke");
        assert!(
            output.status.success(),
            "cargo lambda invoke {payload}: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(dir.join("watch.log")).unwrap_or_default()
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        serde_json::from_str::<serde_json::Value>(stdout.trim())
            .unwrap_or_else(|err| panic!("{err}: {stdout}"))
    };
    let relayed = invoke("{}");
    assert_eq!(relayed["changes"], 25, "{relayed}");
    assert_eq!(relayed["caught_up"], true);
    let status = invoke(r#"{"mode":"status"}"#);
    assert_eq!(
        lsn_of(status["checkpoint_lsn"].as_str().unwrap()),
        case.confirmed_flush_lsn().await
    );
    assert_eq!(env::read_topic(&case.topic("t"), 25).len(), 25);
    let validated = invoke(r#"{"mode":"validate"}"#);
    assert_eq!(validated["passed"], true, "{validated}");
    assert!(!validated.to_string().contains(&env::var("PGPASSWORD")));
    // on Lambda, logs are JSON lines and the EMF record goes to stdout
    let log = std::fs::read_to_string(dir.join("watch.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("\"message\":\"window published\"")),
        "a JSON log line per window"
    );
    assert!(log.contains("\"CloudWatchMetrics\""), "an EMF record");
    case.drop_slot().await;
}
