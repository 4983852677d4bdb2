//! The Kafka Connect worker `tests/env/up --connect` starts (`KAFKA_CONNECT_URL`), through its REST
//! API, as users drive it with curl: a few blocking HTTP/1.0 requests on loopback need no HTTP
//! client crate.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The Kafka Connect worker's REST API.
#[derive(Debug, Clone)]
pub struct KafkaConnect {
    /// `host:port`
    address: String,
}

/// One answer of the REST API: the status code and the body (JSON, or `Value::Null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl KafkaConnect {
    /// The worker `KAFKA_CONNECT_URL` names.
    ///
    /// # Panics
    /// When the variable is not set (the message says how to start the worker) or is no
    /// `http://host:port` URL.
    pub fn from_env() -> Self {
        let url = std::env::var("KAFKA_CONNECT_URL").unwrap_or_else(|_| {
            panic!(
                "KAFKA_CONNECT_URL is not set: start Kafka Connect with `eval \"$(tests/env/up --connect)\"` \
                 (./scripts/test does)"
            )
        });
        let address = url
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("KAFKA_CONNECT_URL={url}: expected http://host:port"))
            .trim_end_matches('/')
            .to_owned();
        Self { address }
    }

    /// One request; `body` is sent as JSON.
    ///
    /// # Panics
    /// When the worker cannot be reached or answers no HTTP.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.address)
            .unwrap_or_else(|err| panic!("connect to Kafka Connect at {}: {err}", self.address));
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("set a read timeout");
        // HTTP/1.0: the worker answers with the whole body and closes, never chunked
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nAccept: application/json\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|err| panic!("send {method} {path}: {err}"));
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .unwrap_or_else(|err| panic!("read the answer to {method} {path}: {err}"));
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{method} {path}: no HTTP answer: {text}"));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: no status in {head}"));
        let body = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or_else(|err| {
                panic!("{method} {path} answered {status} with no JSON ({err}): {body}")
            })
        };
        Answer { status, body }
    }

    /// `PUT /connector-plugins/<class>/config/validate`: the worker's verdict on `config`.
    pub fn validate(&self, class: &str, config: &Value) -> Answer {
        self.request(
            "PUT",
            &format!("/connector-plugins/{class}/config/validate"),
            Some(config),
        )
    }

    /// `PUT /connectors/<name>/config`: creates the connector (201) or updates it (200). Retries
    /// while the worker answers 409 (a rebalance in progress) for up to 60 s.
    pub fn put_config(&self, name: &str, config: &Value) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer = self.request("PUT", &format!("/connectors/{name}/config"), Some(config));
            if answer.status != 409 || Instant::now() > deadline {
                return answer;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `GET /connectors/<name>/status`.
    pub fn status(&self, name: &str) -> Answer {
        self.request("GET", &format!("/connectors/{name}/status"), None)
    }

    /// `DELETE /connectors/<name>`.
    pub fn delete(&self, name: &str) -> Answer {
        self.request("DELETE", &format!("/connectors/{name}"), None)
    }

    /// Waits until the connector and all its tasks (at least one) are RUNNING.
    ///
    /// # Panics
    /// When a task FAILED (with its trace) or `timeout` passes (with the last status).
    pub fn wait_running(&self, name: &str, timeout: Duration) {
        let started = Instant::now();
        loop {
            let status = self.status(name).body;
            let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
            if let Some(failed) = tasks.iter().find(|t| t["state"] == "FAILED") {
                panic!(
                    "connector {name}: task {} FAILED:\n{}",
                    failed["id"],
                    failed["trace"].as_str().unwrap_or_default()
                );
            }
            if status["connector"]["state"] == "RUNNING"
                && !tasks.is_empty()
                && tasks.iter().all(|t| t["state"] == "RUNNING")
            {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "connector {name} not RUNNING after {timeout:?}: {status}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
