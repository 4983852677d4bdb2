//! One connection per invocation, with the session settings walbridge decodes under.

use secrecy::ExposeSecret;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Connection, NoTls, Socket};
use tracing::warn;
use walbridge_config::{DatabaseConfig, SslMode};

use super::SESSION_SETTINGS;
use crate::error::SlotError;
use crate::tls::{Verify, client_config};

/// Connects with the session settings walbridge decodes under, over TLS as `database.sslmode`
/// asks (libpq's meanings: `prefer` falls back to plain TCP when the server offers no TLS).
pub(super) async fn connect(
    database: &DatabaseConfig,
) -> Result<(Client, JoinHandle<()>), SlotError> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&database.hostname)
        .port(database.port)
        .user(&database.user)
        .password(database.password.expose_secret())
        .dbname(&database.dbname)
        .application_name("walbridge")
        .options(session_options())
        .connect_timeout(std::time::Duration::from_secs(10));
    let connect_error = |source| SlotError::Connect {
        host: database.hostname.clone(),
        port: database.port,
        user: database.user.clone(),
        ssl_mode: ssl_mode_name(database.ssl_mode),
        source,
    };
    let (verify, mode) = match database.ssl_mode {
        SslMode::Disable => {
            let (client, connection) = config.connect(NoTls).await.map_err(connect_error)?;
            return Ok((client, spawn_connection(connection)));
        }
        SslMode::Prefer => (Verify::Nothing, tokio_postgres::config::SslMode::Prefer),
        SslMode::Require => (Verify::Nothing, tokio_postgres::config::SslMode::Require),
        SslMode::VerifyCa => (Verify::Chain, tokio_postgres::config::SslMode::Require),
        SslMode::VerifyFull => (
            Verify::ChainAndHost,
            tokio_postgres::config::SslMode::Require,
        ),
    };
    let tls = client_config(database.ssl_root_cert.as_deref(), verify)?;
    config.ssl_mode(mode);
    let (client, connection) = config
        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
        .await
        .map_err(connect_error)?;
    Ok((client, spawn_connection(connection)))
}

/// The startup `options` that set [`SESSION_SETTINGS`].
pub(super) fn session_options() -> String {
    SESSION_SETTINGS
        .iter()
        .map(|(name, value)| format!("-c {name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks that the session runs under [`SESSION_SETTINGS`]: a connection pooler may drop the
/// startup options, and values would then be printed (and decoded) otherwise.
pub(super) async fn verify_session(client: &Client) -> Result<(), SlotError> {
    let names: Vec<&str> = SESSION_SETTINGS.iter().map(|(name, _)| *name).collect();
    let rows = client
        .query(
            "SELECT name, current_setting(name) FROM unnest($1::text[]) AS name",
            &[&names],
        )
        .await
        .map_err(|source| SlotError::Query {
            action: "read the session settings",
            slot: String::new(),
            source,
        })?;
    for row in rows {
        let (name, found): (String, String) = (row.get(0), row.get(1));
        let expected = SESSION_SETTINGS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| *v);
        let agrees = if name == "DateStyle" {
            found.split(',').next().map(str::trim) == Some(expected)
        } else {
            found == expected
        };
        if !agrees {
            return Err(SlotError::SessionSetting {
                name,
                expected,
                found,
            });
        }
    }
    Ok(())
}

/// Runs a connection's background task.
pub(super) fn spawn_connection<T>(connection: Connection<Socket, T>) -> JoinHandle<()>
where
    T: tokio_postgres::tls::TlsStream + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            warn!(error = %err, "postgresql connection ended");
        }
    })
}

/// `database.sslmode`'s spelling, for errors.
pub(super) fn ssl_mode_name(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}

/// `server_version_num`, what the wal2json options and the version-dependent catalog reads go by,
/// and whether the server is a hot standby (in recovery).
pub(super) async fn server_version(client: &Client) -> Result<(i32, bool), SlotError> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int4, pg_is_in_recovery()",
            &[],
        )
        .await
        .map_err(|source| SlotError::Query {
            action: "read the server's version",
            slot: String::new(),
            source,
        })?;
    Ok((row.get(0), row.get(1)))
}
