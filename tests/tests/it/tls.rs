//! PostgreSQL over TLS for real: a private cluster of the test's own (`ssl=on`, plain TCP refused by
//! `pg_hba.conf`) with a certificate for `localhost` signed by a CA the test generates; walbridge
//! connects with each `database.sslmode`.

use std::path::{Path, PathBuf};

use walbridge_config::{Config, SslMode};
use walbridge_relay::{ChangeSource, error_chain, postgres::PgSlot};
use walbridge_tests::{PrivatePostgres, TestCa};

const PASSWORD: &str = "tls-test-password";

/// A PostgreSQL cluster that only accepts TLS connections; stopped and removed when dropped.
struct TlsCluster {
    server: PrivatePostgres,
    /// The CA that signed the server's certificate.
    ca: PathBuf,
    /// A CA that signed nothing the server has.
    other_ca: PathBuf,
}

impl TlsCluster {
    fn start() -> Self {
        let server = PrivatePostgres::init("pgtls", "walbridge", PASSWORD);
        let ca = TestCa::new("walbridge test CA");
        let (cert, key) = ca.server_cert(&["localhost"]);
        let ca_path = server.dir.join("ca.pem");
        let other_ca = server.dir.join("other-ca.pem");
        std::fs::write(&ca_path, ca.pem()).unwrap();
        std::fs::write(&other_ca, TestCa::new("another CA").pem()).unwrap();
        server.put("server.crt", &cert);
        server.put("server.key", &key);
        server.put(
            "pg_hba.conf",
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostssl all all ::1/128 scram-sha-256\n\
             hostnossl all all all reject\n",
        );
        server.configure("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        server.start();
        Self {
            server,
            ca: ca_path,
            other_ca,
        }
    }

    fn config(&self, host: &str, mode: SslMode, root: Option<&Path>) -> Config {
        let mut config = Config::from_sources(
            walbridge_config::Properties::default(),
            &[
                ("DATABASE_HOSTNAME", host),
                ("DATABASE_PORT", &self.server.port.to_string()),
                ("DATABASE_USER", "walbridge"),
                ("DATABASE_PASSWORD", PASSWORD),
                ("DATABASE_DBNAME", "postgres"),
                ("TOPIC_PREFIX", "tls"),
                ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9"),
                ("CHECKPOINT_URI", "file:///tmp/unused.json"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        )
        .expect("valid configuration");
        config.database.ssl_mode = mode;
        config.database.ssl_root_cert = root.map(Path::to_owned);
        config
    }

    /// Connects as walbridge does and runs a query; the error as a person reads it.
    async fn connect(&self, host: &str, mode: SslMode, root: Option<&Path>) -> Result<(), String> {
        let config = self.config(host, mode, root);
        match PgSlot::connect(&config.database, &config.slot, &Default::default(), 1).await {
            Ok(mut pg) => {
                let tls = pg.uses_tls().await.map_err(|err| error_chain(&err))?;
                pg.server().await.map_err(|err| error_chain(&err))?;
                pg.close().await;
                assert!(
                    tls,
                    "every accepted connection is TLS (pg_hba refuses plain TCP)"
                );
                Ok(())
            }
            Err(err) => Err(error_chain(&err)),
        }
    }
}

#[tokio::test]
async fn postgresql_tls_verifies_the_ca_and_the_host_name_as_sslmode_says() {
    let cluster = TlsCluster::start();
    let ca = Some(cluster.ca.as_path());

    // verify-full: the certificate names localhost, so localhost passes and 127.0.0.1 does not.
    cluster
        .connect("localhost", SslMode::VerifyFull, ca)
        .await
        .expect("verify-full to the certificate's host name");
    let err = cluster
        .connect("127.0.0.1", SslMode::VerifyFull, ca)
        .await
        .expect_err("verify-full refuses another host name");
    eprintln!("verify-full to 127.0.0.1: {err}");
    assert!(
        err.contains("database.sslmode=verify-full") && err.contains("not valid for name"),
        "{err}"
    );

    // verify-ca checks the chain only; a certificate of another CA is refused by both.
    cluster
        .connect("127.0.0.1", SslMode::VerifyCa, ca)
        .await
        .expect("verify-ca ignores the host name");
    for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
        let err = cluster
            .connect("localhost", mode, Some(&cluster.other_ca))
            .await
            .expect_err("a certificate of an untrusted CA is refused");
        eprintln!("{mode:?} with another CA: {err}");
        assert!(
            err.contains("UnknownIssuer") || err.contains("unknown issuer"),
            "{err}"
        );
    }

    // require and prefer encrypt without verifying; disable is refused by this server.
    for mode in [SslMode::Require, SslMode::Prefer] {
        cluster
            .connect("127.0.0.1", mode, None)
            .await
            .unwrap_or_else(|err| panic!("{mode:?}: {err}"));
    }
    let err = cluster
        .connect("localhost", SslMode::Disable, None)
        .await
        .expect_err("plain TCP is refused by pg_hba.conf");
    assert!(
        err.contains("no encryption") || err.contains("pg_hba.conf"),
        "{err}"
    );

    // A root certificate file that is not there is named.
    let err = cluster
        .connect(
            "localhost",
            SslMode::VerifyFull,
            Some(Path::new("/nonexistent/ca.pem")),
        )
        .await
        .expect_err("a missing CA file is an error");
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}
