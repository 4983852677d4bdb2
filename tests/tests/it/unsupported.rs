//! A Debezium configuration asking for something walbridge does not implement (transforms,
//! transaction metadata in the legacy envelope, …) is refused at cold start and by
//! `walbridge validate`, naming the key — never relayed as if the property were not there.

use std::process::Command;

use serde_json::Value;
use walbridge_tests as env;

use crate::case::{Case, walbridge_invoke};

#[tokio::test]
async fn transforms_and_transaction_metadata_in_the_legacy_envelope_are_refused_naming_the_key() {
    let case = Case::new("unsupported", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let dir = std::path::PathBuf::from(env::var("WALBRIDGE_ENV_DIR"))
        .join("private")
        .join(&case.schema);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("connector.properties");
    std::fs::write(
        &file,
        format!(
            "slot.name={}\ntable.include.list={}.*\ntopic.prefix={}\nsnapshot.mode=no_data\n\
             transforms=unwrap,mask\n\
             transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n\
             transforms.mask.type=com.acme.MaskCreditCards\n\
             provide.transaction.metadata=true\nsource.struct.version=v1\n",
            case.slot, case.schema, case.prefix
        ),
    )
    .unwrap();
    let command = |args: &[&str]| {
        let invoke = walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key));
        let mut command = Command::new(invoke.get_program());
        for (key, value) in invoke.get_envs() {
            if let Some(value) = value {
                command.env(key, value);
            }
        }
        command.args(args).env("WALBRIDGE_PROPERTIES", &file);
        command.output().expect("run walbridge")
    };

    let validated = command(&["validate", "--json"]);
    assert!(!validated.status.success(), "validate fails");
    let report: Value = serde_json::from_slice(&validated.stdout).expect("a JSON report");
    // the transform walbridge does not know, named by its type key; the chain's known one is fine
    for key in ["transforms.mask.type", "provide.transaction.metadata"] {
        let property = report["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == key)
            .unwrap_or_else(|| panic!("{key} in {report:#}"));
        let errors = property["errors"].to_string();
        assert!(errors.contains("does not implement"), "{key}: {errors}");
    }

    let slot_before = case.confirmed_flush_lsn().await;
    let invoked = command(&["invoke"]);
    assert!(!invoked.status.success(), "cold start refuses the file");
    let stderr = String::from_utf8_lossy(&invoked.stderr);
    assert!(stderr.contains("com.acme.MaskCreditCards"), "{stderr}");
    assert_eq!(
        case.confirmed_flush_lsn().await,
        slot_before,
        "nothing relayed, the slot where it was"
    );
    case.drop_slot().await;
}
