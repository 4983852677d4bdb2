//! No secret a Debezium file carries reaches what validate shows: its table, its JSON, the Lambda
//! handler's `{"mode":"validate"}` answer, or the logs — not even under keys walbridge never reads.

use walbridge_tests as env;

use crate::case::Case;
use crate::validate::{property, run, validate_command};

#[tokio::test]
async fn validate_masks_the_values_of_unknown_keys_that_name_a_secret() {
    let case = Case::new("redact", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let tag = env::unique("s");
    let secrets = [
        ("database.sslpassword", format!("hunter2-{tag}")),
        (
            "schema.history.internal.producer.sasl.jaas.config",
            format!(
                "org.apache.kafka.common.security.plain.PlainLoginModule required \
                 username=\"cdc\" password=\"jaas-{tag}\";"
            ),
        ),
        ("debezium.source.database.password", format!("dbz-{tag}")),
        (
            "schema.history.internal.consumer.ssl.keystore.password",
            format!("ks-{tag}"),
        ),
    ];
    let dir = std::env::temp_dir().join(&case.schema);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("connector.properties");
    let mut text = format!("offset.flush.timeout.ms=7{}\n", &tag[2..6]);
    for (key, value) in &secrets {
        // A .properties value keeps its quotes and spaces; only the line break ends it.
        text.push_str(&format!("{key}={value}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let file = file.display().to_string();
    let extra = [("WALBRIDGE_PROPERTIES", file.as_str())];

    let human = validate_command(&case, &["validate"], &extra)
        .output()
        .unwrap();
    let (json_output, report) = run(validate_command(&case, &["validate", "--json"], &extra));
    let (invoked_output, invoked) = run(validate_command(
        &case,
        &["invoke", r#"{"mode":"validate"}"#],
        &extra,
    ));
    for output in [&human, &json_output, &invoked_output] {
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(shown.contains("database.sslpassword"), "{shown}");
        for (key, value) in &secrets {
            assert!(
                !shown.contains(value.as_str()),
                "{key}'s value is shown: {shown}"
            );
        }
        // Nor a part of one: every secret holds the tag (the table cuts long values short).
        assert!(!shown.contains(&tag[2..]), "{shown}");
    }
    for report in [&report, &invoked] {
        for (key, _) in &secrets {
            assert_eq!(property(report, key)["value"], "****", "{key}");
        }
        // An unknown key that is no secret still shows its value, to spot a typo by.
        assert_eq!(
            property(report, "offset.flush.timeout.ms")["value"],
            format!("7{}", &tag[2..6])
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
    case.drop_slot().await;
}
