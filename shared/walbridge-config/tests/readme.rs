//! The README's configuration table against [`KEYS`]: every key walbridge reads is in the table, with
//! the default the code has, and the table names no key the code does not know (the keys walbridge
//! ignores by design, [`IGNORED_BY_DESIGN`], may be listed, without a default).
//!
//! How the table is read: the keys are the code spans of a row's first cell. `…` at the start of one
//! stands for a leading part of the row's first key (`snapshot.mode.configuration.based.snapshot.data`,
//! `….start.stream`). The defaults are the code spans of the second cell: none means the keys have no
//! default (words such as "all" or "the system's roots" say what that means), one is every key's, and
//! otherwise there is one per key, in order. A default the code declares as the empty string counts as
//! none.

use std::collections::BTreeMap;

use walbridge_config::{IGNORED_BY_DESIGN, KEYS};

const README: &str = include_str!("../../../README.md");

/// The heading the table follows, and its header row.
const HEADING: &str = "### Configuration";
const HEADER: &str = "| key | default | meaning |";

#[test]
fn the_readme_configuration_table_lists_every_key_with_its_default() {
    let problems = problems(README);
    assert!(
        problems.is_empty(),
        "README.md's configuration table disagrees with walbridge_config::KEYS:\n  {}",
        problems.join("\n  ")
    );
}

/// The check itself can fail: a table with a wrong default, an unknown key, a row without its
/// defaults and a key left out yields one problem for each.
#[test]
fn a_table_that_disagrees_with_the_keys_is_reported() {
    let mut doctored = README.to_owned();
    for (row, changed) in [
        (
            "| `window.max.changes` | `0` (no limit) |",
            "| `window.max.changes` | `1000` |",
        ),
        (
            "| `window.fetch.rows` | `2000` |",
            "| `window.fetch.rows`, `window.fetch.bytes` | `2000` |",
        ),
        (
            "| `kafka.publish.timeout.ms` | `60000` |",
            "| `kafka.publish.timeout.ms`, `checkpoint.uri`, `slot.create` | `60000`, `x` |",
        ),
        ("| `kafka.compression.type` |", "| compression |"),
    ] {
        assert!(doctored.contains(row), "the README has the row {row}");
        doctored = doctored.replace(row, changed);
    }
    let problems = problems(&doctored);
    let expected = [
        "window.max.changes: the README's default is `1000`, the code's `0`",
        "window.fetch.bytes: in the README's table, but walbridge does not know it",
        "3 keys and 2 defaults",
        "kafka.compression.type: not in the README's table",
    ];
    for expected in expected {
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "no problem says {expected:?}; problems: {problems:#?}"
        );
    }
}

/// What is wrong with the configuration table of `readme`, one sentence each.
fn problems(readme: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let known = |name: &str| {
        KEYS.iter().any(|key| key.name == name)
            || IGNORED_BY_DESIGN.iter().any(|(key, _)| *key == name)
    };
    // key -> (its default in the README, the row that lists it)
    let mut documented: BTreeMap<String, (Option<String>, usize)> = BTreeMap::new();
    let rows = table(readme);
    if rows.is_empty() {
        problems.push(format!("no table `{HEADER}` after `{HEADING}`"));
    }
    for (number, [keys, defaults]) in rows.iter().enumerate() {
        let number = number + 1;
        let spans = code_spans(keys);
        let Some(first) = spans.first() else {
            problems.push(format!("row {number}: no key in its first cell"));
            continue;
        };
        let names: Vec<String> = spans
            .iter()
            .map(|span| expand(span, first, &known))
            .collect();
        let defaults = code_spans(defaults);
        let default_of = |i: usize| match defaults.len() {
            0 => Some(None),
            1 => Some(Some(defaults[0].to_owned())),
            n if n == spans.len() => Some(Some(defaults[i].to_owned())),
            _ => None,
        };
        for (i, name) in names.into_iter().enumerate() {
            let Some(default) = default_of(i) else {
                problems.push(format!(
                    "row {number} ({first}, …): {} keys and {} defaults: give one default for \
                     every key, or one per key",
                    spans.len(),
                    defaults.len()
                ));
                break;
            };
            if let Some((_, earlier)) = documented.insert(name.clone(), (default, number)) {
                problems.push(format!("{name}: in rows {earlier} and {number}"));
            }
        }
    }
    for key in KEYS {
        let code = key.default.filter(|default| !default.is_empty());
        match documented.get(key.name) {
            None => problems.push(format!("{}: not in the README's table", key.name)),
            Some((readme, _)) if readme.as_deref() != code => problems.push(format!(
                "{}: the README's default is {}, the code's {}",
                key.name,
                shown(readme.as_deref()),
                shown(code)
            )),
            Some(_) => {}
        }
    }
    for (name, (default, number)) in &documented {
        if KEYS.iter().any(|key| key.name == *name) {
            continue;
        }
        if !IGNORED_BY_DESIGN
            .iter()
            .any(|(key, _)| *key == name.as_str())
        {
            problems.push(format!(
                "{name}: in the README's table, but walbridge does not know it (row {number})"
            ));
        } else if let Some(default) = default {
            problems.push(format!(
                "{name}: ignored by design, yet the README gives it the default `{default}`"
            ));
        }
    }
    problems
}

/// The key and default cells of the table's rows.
fn table(readme: &str) -> Vec<[&str; 2]> {
    readme
        .lines()
        .skip_while(|line| *line != HEADING)
        .skip_while(|line| *line != HEADER)
        .skip(2) // the header and its separator
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(
                cells.len(),
                3,
                "a row of three cells (no `|` inside one): {line}"
            );
            [cells[0], cells[1]]
        })
        .collect()
}

/// The text between backticks.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// `span` as a whole key: `….start.stream` is the row's `first` key with its tail replaced, the
/// shortest replacement that names a known key. Unresolved, it is returned as it is (and then
/// reported as unknown).
fn expand(span: &str, first: &str, known: &dyn Fn(&str) -> bool) -> String {
    let Some(tail) = span.strip_prefix('…') else {
        return span.to_owned();
    };
    first
        .rmatch_indices('.')
        .map(|(dot, _)| format!("{}{tail}", &first[..dot]))
        .find(|name| known(name))
        .unwrap_or_else(|| span.to_owned())
}

fn shown(default: Option<&str>) -> String {
    default.map_or_else(|| "none".to_owned(), |default| format!("`{default}`"))
}
