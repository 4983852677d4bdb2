//! A PostgreSQL cluster of a test's own: `initdb` in a scratch directory, started on a free loopback
//! port, so the test can crash and restart the server (or serve TLS only) without disturbing the
//! other tests, which share the cluster `tests/env/up` started.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{free_port, unique, var};

/// The server programs when `tests/env/up` did not say (it exports the major it started).
const DEFAULT_PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A throwaway cluster; stopped (immediately) and removed when dropped.
#[derive(Debug)]
pub struct PrivatePostgres {
    /// Holds the data directory, the socket and the server log.
    pub dir: PathBuf,
    /// The TCP port it listens on, on 127.0.0.1.
    pub port: u16,
    /// A superuser with a password, for connections over TCP.
    pub user: String,
    /// That user's password.
    pub password: String,
}

/// Runs a server binary as `postgres` when we are root (initdb and postgres refuse root).
fn as_postgres(program: &str) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    // the same major as the shared cluster: a crash test on PostgreSQL 18 crashes an 18
    let bin = std::env::var("WALBRIDGE_PG_BIN").unwrap_or_else(|_| DEFAULT_PG_BIN.to_owned());
    let program = Path::new(&bin).join(program);
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn ok(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl PrivatePostgres {
    /// A new cluster (not started) with a password-protected superuser `user`; local socket
    /// connections are trusted, TCP ones need the password (scram).
    pub fn init(name: &str, user: &str, password: &str) -> Self {
        let dir = PathBuf::from(var("WALBRIDGE_ENV_DIR"))
            .join("private")
            .join(unique(name));
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        let cluster = Self {
            dir,
            port: free_port(),
            user: user.to_owned(),
            password: password.to_owned(),
        };
        std::fs::write(cluster.dir.join("pwfile"), password).expect("write the password file");
        cluster.chown();
        ok(
            as_postgres("initdb")
                .arg("-D")
                .arg(cluster.data())
                .args(["-U", user, "-E", "UTF8", "--locale=C"])
                .arg(format!("--pwfile={}", cluster.dir.join("pwfile").display()))
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"]),
            "initdb",
        );
        cluster
    }

    /// A started cluster ready for logical decoding with wal2json, as `tests/env/up` configures the
    /// shared one. No timed checkpoints: a slot's advance reaches the disk only at a checkpoint, so
    /// a crash of this server sends every slot back to where it was created or last checkpointed.
    pub fn logical(name: &str, user: &str, password: &str) -> Self {
        let cluster = Self::init(name, user, password);
        cluster.configure(
            "wal_level = logical\nmax_replication_slots = 16\nmax_wal_senders = 8\n\
             checkpoint_timeout = '1d'\n",
        );
        cluster.start();
        cluster.allow_wal2json();
        cluster
    }

    /// A hot standby of `primary` (started): a base backup taken over the primary's socket with
    /// `pg_basebackup -R`, streaming from the primary's physical slot `slot` (created by the
    /// backup), with `settings` added to its configuration. The connection string names the
    /// database, as PostgreSQL 17's slot synchronization needs.
    pub fn standby_of(primary: &Self, name: &str, slot: &str, settings: &str) -> Self {
        let dir = PathBuf::from(var("WALBRIDGE_ENV_DIR"))
            .join("private")
            .join(unique(name));
        std::fs::create_dir_all(&dir).expect("create the standby's directory");
        let standby = Self {
            dir,
            port: free_port(),
            user: primary.user.clone(),
            password: primary.password.clone(),
        };
        standby.chown();
        ok(
            as_postgres("pg_basebackup")
                .arg("-D")
                .arg(standby.data())
                .arg("-d")
                .arg(format!(
                    "host={} port={} user={} dbname=postgres",
                    primary.dir.display(),
                    primary.port,
                    primary.user
                ))
                .args(["-R", "-C", "-S", slot, "-X", "stream", "-c", "fast"]),
            "pg_basebackup of the primary",
        );
        standby.configure(&format!("\nhot_standby = on\n{settings}"));
        standby.start();
        standby
    }

    /// Promotes a standby to a primary and waits until it accepts writes.
    pub fn promote(&self) {
        ok(
            as_postgres("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-w", "-t", "60", "promote"]),
            "promote the standby",
        );
    }

    /// Lets logical decoding load wal2json: PostgreSQL 15.19+ decodes only with the output plugins
    /// it allows; older servers do not know the parameter. Two statements: ALTER SYSTEM cannot run
    /// inside a DO block (a function).
    pub fn allow_wal2json(&self) {
        if self.psql("SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")
            == "1"
        {
            self.psql(
                "ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding', 'wal2json'",
            );
            self.psql("SELECT pg_reload_conf()");
        }
    }

    /// The data directory (`PGDATA`).
    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Writes a file into the data directory, readable by the server only (keys need that).
    pub fn put(&self, name: &str, contents: &str) {
        let path = self.data().join(name);
        std::fs::write(&path, contents).unwrap_or_else(|err| panic!("write {name}: {err}"));
        self.chown();
        ok(Command::new("chmod").arg("600").arg(&path), "chmod");
    }

    /// Appends settings to `postgresql.conf`; they hold from the next start on.
    pub fn configure(&self, settings: &str) {
        let path = self.data().join("postgresql.conf");
        let mut conf = std::fs::read_to_string(&path).expect("read postgresql.conf");
        conf.push_str(settings);
        std::fs::write(&path, conf).expect("write postgresql.conf");
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        ok(
            as_postgres("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.join("postgresql.log"))
                .args(["-w", "-t", "60", "start", "-o"])
                .arg(format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1",
                    self.port,
                    self.dir.display()
                )),
            "start the private PostgreSQL",
        );
    }

    /// Stops the server: `immediate` is a crash (no shutdown checkpoint, recovery at the next start),
    /// `fast` a clean shutdown.
    pub fn stop(&self, mode: &str) {
        ok(
            as_postgres("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-w", "-m", mode, "stop"]),
            "stop the private PostgreSQL",
        );
    }

    /// Runs SQL as the superuser over the local socket.
    pub fn psql(&self, sql: &str) -> String {
        let output = as_postgres("psql")
            .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                &self.user,
                "-d",
                "postgres",
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A connection over TCP as the superuser, to database `postgres`.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = self.config().connect(tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            // ends when the server goes away: the test reconnects
            let _ = connection.await;
        });
        Ok(client)
    }

    /// How to reach the `postgres` database over TCP as [`PrivatePostgres::user`].
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname("postgres");
        config
    }

    fn chown(&self) {
        ok(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.dir),
            "chown the cluster directory",
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
