//! The smallest valid configuration, with a test's own properties on top.

use walbridge_config::{Config, Properties};

/// The configuration of the required properties and `pairs`.
pub(crate) fn config(pairs: &[(&str, &str)]) -> Config {
    let mut props = Properties::default();
    for (key, value) in [
        ("database.hostname", "h"),
        ("database.user", "u"),
        ("database.dbname", "d"),
        ("topic.prefix", "p"),
        ("checkpoint.uri", "file:///tmp/c.json"),
        ("kafka.bootstrap.servers", "k:9092"),
    ]
    .iter()
    .chain(pairs)
    {
        props.set(key, value);
    }
    Config::from_properties(&props).expect("a valid config")
}
