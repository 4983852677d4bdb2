//! What a test makes on the shared PostgreSQL cluster goes when the test does, passed or failed: a
//! failed assertion must not leave a logical slot behind, which would pin WAL for every later test.

use std::time::{Duration, Instant};

/// Drops, when it goes, the schema `schema` and every replication slot and publication whose name
/// starts with `<schema>_` (a test's slots are named after its schema, whose name is unique).
///
/// A drop cannot await and may run inside the test's own runtime, whose tasks stop while it
/// unwinds, so the cleanup runs on a thread of its own, with its own runtime and connection.
#[derive(Debug)]
pub struct PgCleanup {
    schema: String,
}

impl PgCleanup {
    /// Takes charge of `schema` and its slots; create the guard before them, so that a failure while
    /// making them is cleaned up too.
    pub fn new(schema: &str) -> Self {
        Self {
            schema: schema.to_owned(),
        }
    }
}

impl Drop for PgCleanup {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        let cleaned = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup")
                .block_on(clean_up(&schema))
        })
        .join();
        if let Ok(Err(err)) = cleaned {
            eprintln!("cleanup of schema {}: {err}", self.schema);
        }
    }
}

/// How long a reader a failed test left behind (a relay, Debezium) may take to let go of its slot.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(10);

async fn clean_up(schema: &str) -> Result<(), tokio_postgres::Error> {
    let pg = crate::pg().await;
    let prefix = format!("{schema}_");
    let deadline = Instant::now() + RELEASE_TIMEOUT;
    loop {
        let slots = pg
            .query(
                "SELECT slot_name::text, active_pid FROM pg_replication_slots \
                 WHERE starts_with(slot_name::text, $1)",
                &[&prefix],
            )
            .await?;
        if slots.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            eprintln!("cleanup: slots of {schema} still in use after {RELEASE_TIMEOUT:?}");
            break;
        }
        for slot in &slots {
            let name: &str = slot.get(0);
            // A slot in use cannot be dropped: its reader belongs to this test, so it is stopped.
            match slot.get::<_, Option<i32>>(1) {
                Some(pid) => {
                    pg.execute("SELECT pg_terminate_backend($1)", &[&pid])
                        .await?
                }
                None => {
                    pg.execute("SELECT pg_drop_replication_slot($1)", &[&name])
                        .await?
                }
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let publications = pg
        .query(
            "SELECT pubname::text FROM pg_publication WHERE starts_with(pubname::text, $1)",
            &[&prefix],
        )
        .await?;
    for publication in &publications {
        let name: &str = publication.get(0);
        pg.batch_execute(&format!("DROP PUBLICATION IF EXISTS \"{name}\""))
            .await?;
    }
    pg.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
}
