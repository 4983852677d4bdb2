//! The checkpoint store's fencing, as validate and the relay check it: the write probe goes beside
//! the checkpoint and never onto it, and a store that ignores conditional writes — here SeaweedFS
//! behind a proxy that drops `If-Match` and `If-None-Match` from every request — is refused by
//! validate and by the relay, naming the store, before it can overwrite a checkpoint.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use walbridge_relay::checkpoint::S3CheckpointStore;
use walbridge_relay::{CheckpointError, RelayError};
use walbridge_tests::{self as env, PrivateService};

use crate::case::{Case, invoke, try_invoke};
use crate::validate::{check, run, validate_command};

/// An HTTP proxy on 127.0.0.1 in front of a store that drops the `strip` headers from every request,
/// as a store that ignores them would, and the signature they were signed under (the store serves
/// unsigned requests too); stops when dropped. It runs on a thread of its own: the test
/// blocks its runtime while the function binary runs.
struct StrippingProxy {
    port: u16,
    stop: Option<oneshot::Sender<()>>,
}

impl StrippingProxy {
    fn start(upstream: u16, strip: &'static [&'static str]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, mut stopped) = oneshot::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((client, _)) => drop(tokio::spawn(forward(client, upstream, strip))),
                            Err(_) => return,
                        },
                        _ = &mut stopped => return,
                    }
                }
            });
        });
        Self {
            port,
            stop: Some(stop),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for StrippingProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One client connection: its first request's head without the `strip` headers and the
/// `Authorization` header, with `Connection: close` (so that every request comes on a connection of
/// its own and is filtered), then the rest as it comes.
async fn forward(mut client: TcpStream, upstream: u16, strip: &[&str]) {
    let mut head = Vec::new();
    let mut buf = [0; 8192];
    let end = loop {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let body = head.split_off(end + 4);
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut request = String::new();
    for line in text.trim_end().split("\r\n") {
        let name = line.split(':').next().unwrap_or("").trim();
        if strip.iter().any(|s| s.eq_ignore_ascii_case(name))
            || ["connection", "authorization"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
        {
            continue;
        }
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    let Ok(mut store) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    if store.write_all(request.as_bytes()).await.is_err() || store.write_all(&body).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut store).await;
}

const CONDITIONS: &[&str] = &["If-Match", "If-None-Match"];

/// A SeaweedFS of the test's own that also serves unsigned requests (the proxy changes signed ones),
/// once it serves.
async fn anonymous_store() -> PrivateService {
    let mut store = PrivateService::seaweedfs().with_anonymous_access();
    store.start();
    let s3 = env::s3_at(&store.url()).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Err(err) = s3.list_objects_v2().bucket(env::bucket()).send().await {
        assert!(
            Instant::now() < deadline,
            "the private store never served: {err:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    store
}

/// The checkpoint store for `key`, reached through `endpoint`.
async fn probe_store(endpoint: String, key: &str) -> S3CheckpointStore {
    S3CheckpointStore::new(env::s3_at(&endpoint).await, env::bucket(), key.to_owned())
        .at_endpoint(Some(endpoint))
}

async fn object(s3: &aws_sdk_s3::Client, key: &str) -> Option<Vec<u8>> {
    let object = s3
        .get_object()
        .bucket(env::bucket())
        .key(key)
        .send()
        .await
        .ok()?;
    Some(object.body.collect().await.unwrap().into_bytes().to_vec())
}

#[tokio::test]
async fn validate_probes_beside_the_checkpoint_and_leaves_it_and_nothing_else_behind() {
    let case = Case::new("probe_ok", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    invoke(case.config(&[])).await;
    let s3 = env::s3().await;
    let before = object(&s3, &case.checkpoint_key)
        .await
        .expect("a checkpoint");

    let (output, report) = run(validate_command(&case, &["validate", "--json"], &[]));
    assert!(output.status.success(), "{report:#}");
    let (status, message) = check(&report, "checkpoint");
    assert_eq!(status, "pass", "{message}");
    assert!(
        message.contains("conditional writes are honoured"),
        "{message}"
    );
    assert_eq!(object(&s3, &case.checkpoint_key).await.unwrap(), before);
    let probe = format!("{}.probe", case.checkpoint_key);
    assert_eq!(object(&s3, &probe).await, None, "the probe was removed");
    case.drop_slot().await;
}

#[tokio::test]
async fn a_store_that_ignores_conditional_writes_fails_validate_and_the_relay_and_keeps_its_checkpoint()
 {
    let store = anonymous_store().await;
    let proxy = StrippingProxy::start(store.port, CONDITIONS);
    let s3 = env::s3_at(&store.url()).await;
    let case = Case::new("nocond", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let direct = store.url();
    let stripped = proxy.url();
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 5)")
        .await;
    let report = invoke(case.config(&[("checkpoint.s3.endpoint.url", direct.as_str())])).await;
    assert_eq!(report.changes, 5);
    let checkpoint = object(&s3, &case.checkpoint_key)
        .await
        .expect("a checkpoint");

    let (output, report) = run(validate_command(
        &case,
        &["validate", "--json"],
        &[("CHECKPOINT_S3_ENDPOINT_URL", stripped.as_str())],
    ));
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    let (status, message) = check(&report, "checkpoint");
    assert_eq!(status, "fail", "{message}");
    for part in [
        "ignores conditional writes",
        stripped.as_str(),
        "If-None-Match: *",
        "overwrite it unnoticed",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert_eq!(
        object(&s3, &case.checkpoint_key).await.unwrap(),
        checkpoint,
        "validate did not write the checkpoint"
    );
    let probe = format!("{}.probe", case.checkpoint_key);
    assert_eq!(object(&s3, &probe).await, None, "the probe was removed");

    // The relay refuses such a store before it reads a change.
    case.sql("INSERT INTO {s}.t SELECT generate_series(6, 8)")
        .await;
    let slot_before = case.confirmed_flush_lsn().await;
    let err = try_invoke(case.config(&[("checkpoint.s3.endpoint.url", stripped.as_str())]))
        .await
        .expect_err("no fencing, no relay");
    assert!(
        matches!(
            err,
            RelayError::Checkpoint(CheckpointError::ConditionsIgnored { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains(&stripped), "{err}");
    assert_eq!(err.kind().as_str(), "walbridge.Precondition");
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);
    assert_eq!(object(&s3, &case.checkpoint_key).await.unwrap(), checkpoint);

    // The same store, conditions intact, relays on.
    let report = invoke(case.config(&[("checkpoint.s3.endpoint.url", direct.as_str())])).await;
    assert_eq!(report.changes, 3);
    case.drop_slot().await;
}

#[tokio::test]
async fn a_store_that_ignores_only_if_match_is_found_too_and_a_leftover_probe_hides_nothing() {
    let store = anonymous_store().await;
    let s3 = env::s3_at(&store.url()).await;
    let key = format!("probe-tests/{}/checkpoint.json", env::unique("ifmatch"));

    // Creating is fenced, replacing is not: `save` after the first checkpoint would not be.
    let proxy = StrippingProxy::start(store.port, &["If-Match"]);
    let err = probe_store(proxy.url(), &key)
        .await
        .probe_write()
        .await
        .expect_err("If-Match is ignored");
    let text = err.to_string();
    assert!(
        matches!(&err, CheckpointError::ConditionsIgnored { condition, .. } if condition.starts_with("If-Match")),
        "{text}"
    );

    // A probe object left behind (say by a killed run) neither hides an ignoring store…
    s3.put_object()
        .bucket(env::bucket())
        .key(format!("{key}.probe"))
        .body(b"left behind".to_vec().into())
        .send()
        .await
        .unwrap();
    let proxy = StrippingProxy::start(store.port, CONDITIONS);
    let err = probe_store(proxy.url(), &key)
        .await
        .probe_write()
        .await
        .expect_err("the conditions are ignored");
    assert!(
        matches!(err, CheckpointError::ConditionsIgnored { .. }),
        "{err}"
    );
    // …nor fails a store that honours them.
    probe_store(store.url(), &key)
        .await
        .probe_write()
        .await
        .expect("a fencing store passes");
    assert_eq!(
        object(&s3, &key).await,
        None,
        "the checkpoint key was never written"
    );
}
