//! Secret references (`${secretsmanager:…}`, `${ssm:…}`) resolved at cold start, against moto's
//! server — a local emulator of AWS Secrets Manager and SSM Parameter Store, not AWS itself. The
//! database password is only in the emulator: the PostgreSQL check passes only if it was resolved.

use std::process::{Command, Output};

use serde_json::Value;
use walbridge_tests::{self as env, PrivateService};

use crate::case::{Case, walbridge_invoke};

async fn aws(moto: &PrivateService) -> aws_config::SdkConfig {
    aws_config::from_env().endpoint_url(moto.url()).load().await
}

/// The binary with the test services' configuration, the database password replaced by
/// `password`, and the AWS endpoints of secrets pointed at moto.
fn walbridge(case: &Case, moto: &PrivateService, args: &[&str], password: &str) -> Output {
    let invoke = walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key));
    let mut command = Command::new(invoke.get_program());
    for (key, value) in invoke.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
        .args(args)
        .env("SLOT_NAME", &case.slot)
        .env("TOPIC_PREFIX", &case.prefix)
        .env("DATABASE_PASSWORD", password)
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.url())
        .env("AWS_ENDPOINT_URL_SSM", moto.url())
        .env_remove("WALBRIDGE_PROPERTIES")
        .output()
        .expect("run walbridge")
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not a JSON report ({err}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn check_status(report: &Value, name: &str) -> String {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| {
            format!(
                "{}: {}",
                c["status"].as_str().unwrap(),
                c["message"].as_str().unwrap()
            )
        })
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

fn assert_no_secret(output: &Output, secret: &str) {
    for text in [&output.stdout, &output.stderr] {
        assert!(
            !String::from_utf8_lossy(text).contains(secret),
            "the secret appears in the output"
        );
    }
}

#[tokio::test]
async fn database_passwords_come_from_secrets_manager_and_ssm_references() {
    let mut moto = PrivateService::moto();
    moto.start();
    let aws = aws(&moto).await;
    let password = env::var("PGPASSWORD");
    let secret = aws_sdk_secretsmanager::Client::new(&aws)
        .create_secret()
        .name("walbridge/test/db")
        .secret_string(
            serde_json::json!({"username": "walbridge", "password": password}).to_string(),
        )
        .send()
        .await
        .expect("create the secret in moto");
    let arn = secret.arn().expect("an ARN").to_owned();
    aws_sdk_ssm::Client::new(&aws)
        .put_parameter()
        .name("/walbridge/test/db-password")
        .value(&password)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("create the parameter in moto");

    let case = Case::new("secrets", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    for reference in [
        format!("${{secretsmanager:{arn}:password}}"),
        "${secretsmanager:walbridge/test/db:password}".to_owned(),
        "${ssm:/walbridge/test/db-password}".to_owned(),
    ] {
        let output = walbridge(&case, &moto, &["validate", "--json"], &reference);
        let report = report(&output);
        assert!(
            check_status(&report, "postgresql").starts_with("pass"),
            "{reference}: {report:#}"
        );
        let property = report["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "database.password")
            .unwrap();
        assert_eq!(property["value"], "****");
        assert!(
            property["origin"]
                .as_str()
                .unwrap()
                .contains("resolved from")
        );
        assert_no_secret(&output, &password);
    }

    // The invoke path resolves at cold start, before the handler.
    let output = walbridge(
        &case,
        &moto,
        &["invoke", r#"{"mode":"validate"}"#],
        &format!("${{secretsmanager:{arn}:password}}"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(check_status(&report(&output), "postgresql").starts_with("pass"));
    assert_no_secret(&output, &password);

    // A reference that names nothing: a property error in validate, a failed cold start otherwise.
    let missing = "${secretsmanager:walbridge/test/nothing:password}";
    let output = walbridge(&case, &moto, &["validate", "--json"], missing);
    assert_eq!(output.status.code(), Some(1));
    let text = report(&output).to_string();
    assert!(
        text.contains("cannot fetch ${secretsmanager:walbridge/test/nothing:password}"),
        "{text}"
    );
    let output = walbridge(&case, &moto, &["status"], missing);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot resolve secret references"),
        "{stderr}"
    );
    let output = walbridge(
        &case,
        &moto,
        &["validate", "--json"],
        "${secretsmanager:walbridge/test/db:nokey}",
    );
    assert!(
        report(&output)
            .to_string()
            .contains("not a JSON object with the key")
    );
    assert_no_secret(&output, &password);
    case.drop_slot().await;
}
