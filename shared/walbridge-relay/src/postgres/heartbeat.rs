//! `heartbeat.action.query` on a connection of its own, as Debezium runs it on a JDBC connection
//! other than the replication stream's: opened when the first heartbeat is due, kept for the
//! invocation, opened again after a failure.

use futures::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio_postgres::Client;
use walbridge_config::DatabaseConfig;

use super::connection::connect;
use crate::error::HeartbeatQueryError;
use crate::pipeline::HeartbeatAction;

/// Runs the query in autocommit (each run is its own transaction, as a JDBC `execute` is).
pub struct PgHeartbeatQuery {
    database: DatabaseConfig,
    query: String,
    connection: Option<(Client, JoinHandle<()>)>,
}

/// Without the query's text, which may hold literals.
impl std::fmt::Debug for PgHeartbeatQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgHeartbeatQuery")
            .field("host", &self.database.hostname)
            .field("connected", &self.connection.is_some())
            .finish_non_exhaustive()
    }
}

impl PgHeartbeatQuery {
    /// The query, to run on a connection of its own to `database` (opened at its first run).
    pub fn new(database: DatabaseConfig, query: String) -> Self {
        Self {
            database,
            query,
            connection: None,
        }
    }

    async fn execute(&mut self) -> Result<(), HeartbeatQueryError> {
        if self.connection.is_none() {
            let connected = connect(&self.database)
                .await
                .map_err(HeartbeatQueryError::Connect)?;
            self.connection = Some(connected);
        }
        let (client, _) = self.connection.as_ref().expect("connected above");
        let result = client.batch_execute(&self.query).await;
        let Err(err) = result else {
            return Ok(());
        };
        // A broken connection is opened again next time; a failed statement leaves it usable.
        if client.is_closed() {
            self.connection = None;
        }
        Err(match err.code() {
            Some(state) if *state == tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION => {
                HeartbeatQueryError::ReadOnly
            }
            Some(state) => HeartbeatQueryError::Failed {
                sqlstate: state.code().to_owned(),
            },
            // Not the server's error (which may quote the query): the connection's.
            None => HeartbeatQueryError::Lost {
                reason: err.to_string(),
            },
        })
    }
}

impl HeartbeatAction for PgHeartbeatQuery {
    fn run(&mut self) -> BoxFuture<'_, Result<(), HeartbeatQueryError>> {
        Box::pin(self.execute())
    }
}
