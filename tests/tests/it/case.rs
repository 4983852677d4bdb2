//! What every relay test sets up: its own schema, slot, topic prefix and checkpoint object, and a
//! configuration pointing at the real services.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use walbridge_config::{Config, Properties};
use walbridge_relay::{Deps, InvocationReport, RelayError};
use walbridge_tests::{self as env, KafkaRecord};

/// One test's own schema, slot, topic prefix and checkpoint object.
pub struct Case {
    pub pg: tokio_postgres::Client,
    pub schema: String,
    pub slot: String,
    pub prefix: String,
    pub checkpoint_key: String,
    /// On the shared cluster: drops the schema and every slot named after it when the case goes,
    /// however the test ends.
    _cleanup: Option<env::PgCleanup>,
}

impl Case {
    /// Creates the schema, runs `ddl` (with `{s}` standing for the schema), then the wal2json slot;
    /// all of them go when the case does.
    pub async fn new(name: &str, ddl: &str) -> Self {
        Self::create(env::pg().await, name, ddl, true).await
    }

    /// As [`Case::new`], on the PostgreSQL server `pg` is connected to: a server of the test's own,
    /// which takes the schema and the slot with it when it goes.
    pub async fn on(pg: tokio_postgres::Client, name: &str, ddl: &str) -> Self {
        Self::create(pg, name, ddl, false).await
    }

    async fn create(pg: tokio_postgres::Client, name: &str, ddl: &str, shared: bool) -> Self {
        let schema = env::unique(name);
        let cleanup = shared.then(|| env::PgCleanup::new(&schema));
        pg.batch_execute(&format!(
            "CREATE SCHEMA {schema}; {}",
            ddl.replace("{s}", &schema)
        ))
        .await
        .expect("create the test tables");
        let slot = format!("{schema}_slot");
        pg.execute(
            "SELECT pg_create_logical_replication_slot($1, 'wal2json')",
            &[&slot],
        )
        .await
        .expect("create the slot");
        Self {
            pg,
            prefix: schema.replace('_', "-"),
            checkpoint_key: format!("relay-tests/{schema}/checkpoint.json"),
            schema,
            slot,
            _cleanup: cleanup,
        }
    }

    /// The configuration a user would write, plus `extra` properties.
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut props = Properties::default();
        let pairs = [
            ("database.hostname", env::var("PGHOST")),
            ("database.port", env::var("PGPORT")),
            ("database.user", env::var("PGUSER")),
            ("database.password", env::var("PGPASSWORD")),
            ("database.dbname", env::var("PGDATABASE")),
            ("slot.name", self.slot.clone()),
            ("table.include.list", format!("{}.*", self.schema)),
            ("topic.prefix", self.prefix.clone()),
            ("key.converter.schemas.enable", "false".into()),
            ("value.converter.schemas.enable", "false".into()),
            ("kafka.bootstrap.servers", env::kafka_bootstrap()),
            ("topic.creation.default.partitions", "3".into()),
            // Streaming tests; the snapshot tests ask for theirs.
            ("snapshot.mode", "no_data".into()),
            // tansu 0.6.0 stores and serves record headers slowly (a 10 000-change test times out
            // with Debezium's four context headers on every record): its pass checks walbridge's
            // use of the Kafka protocol without them; the noida-db pass keeps them on.
            (
                "extended.headers.enabled",
                (env::broker() != env::Broker::Tansu).to_string(),
            ),
            (
                "checkpoint.uri",
                format!("s3://{}/{}", env::bucket(), self.checkpoint_key),
            ),
        ];
        for (key, value) in &pairs {
            props.set(key, value);
        }
        // Logical decoding messages are the whole database's: a test publishes only its own
        // (prefixed with its schema, as every test's are) unless it chooses.
        if !extra
            .iter()
            .any(|(key, _)| key.starts_with("message.prefix."))
        {
            props.set(
                "message.prefix.include.list",
                &format!("{}\\..*", self.schema),
            );
        }
        for (key, value) in extra {
            props.set(key, value);
        }
        Config::from_sources(props, &BTreeMap::new()).expect("valid test configuration")
    }

    pub fn topic(&self, table: &str) -> String {
        format!("{}.{}.{table}", self.prefix, self.schema)
    }

    pub async fn sql(&self, sql: &str) {
        self.pg
            .batch_execute(&sql.replace("{s}", &self.schema))
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    pub async fn confirmed_flush_lsn(&self) -> u64 {
        self.confirmed_flush_lsn_of(&self.slot).await
    }

    /// The `confirmed_flush_lsn` of another slot of the case.
    pub async fn confirmed_flush_lsn_of(&self, slot: &str) -> u64 {
        let lsn: tokio_postgres::types::PgLsn = self
            .pg
            .query_one(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1",
                &[&slot],
            )
            .await
            .unwrap()
            .get(0);
        u64::from(lsn)
    }

    pub async fn checkpoint(&self) -> Value {
        self.checkpoint_in(&env::s3().await).await
    }

    /// The checkpoint object in the store `s3` talks to.
    pub async fn checkpoint_in(&self, s3: &aws_sdk_s3::Client) -> Value {
        let object = s3
            .get_object()
            .bucket(env::bucket())
            .key(&self.checkpoint_key)
            .send()
            .await
            .expect("the checkpoint object exists");
        let body = object.body.collect().await.unwrap().into_bytes();
        serde_json::from_slice(&body).expect("the checkpoint is JSON")
    }

    pub async fn drop_slot(&self) {
        self.pg
            .execute("SELECT pg_drop_replication_slot($1)", &[&self.slot])
            .await
            .expect("drop the slot");
        self.sql("DROP SCHEMA {s} CASCADE").await;
    }
}

pub async fn invoke(config: Config) -> InvocationReport {
    try_invoke(config)
        .await
        .unwrap_or_else(|err| panic!("invocation failed: {err:?}"))
}

pub async fn try_invoke(config: Config) -> Result<InvocationReport, RelayError> {
    let deps = Deps::new(config).await;
    walbridge_relay::invoke(&deps, Instant::now() + Duration::from_secs(120)).await
}

pub fn lsn_of(text: &str) -> u64 {
    let (hi, lo) = text.split_once('/').expect("X/X");
    (u64::from_str_radix(hi, 16).unwrap() << 32) | u64::from_str_radix(lo, 16).unwrap()
}

pub fn value(record: &KafkaRecord) -> Value {
    record.value_json().expect("not a tombstone")
}

/// `walbridge invoke` reaching the test services through the environment, as on Lambda.
pub fn walbridge_invoke(checkpoint_uri: &str) -> Command {
    let mut command = Command::new(env::walbridge_bin());
    command
        .arg("invoke")
        .env("DATABASE_HOSTNAME", env::var("PGHOST"))
        .env("DATABASE_PORT", env::var("PGPORT"))
        .env("DATABASE_USER", env::var("PGUSER"))
        .env("DATABASE_PASSWORD", env::var("PGPASSWORD"))
        .env("DATABASE_DBNAME", env::var("PGDATABASE"))
        .env("KAFKA_BOOTSTRAP_SERVERS", env::kafka_bootstrap())
        .env("CHECKPOINT_URI", checkpoint_uri);
    command
}
