//! Debezium's one rule for the regular expressions in its lists (`table.include.list`,
//! `snapshot.include.collection.list`, a signal's `data-collections`, …): each entry matches the
//! whole name, ignoring case, as `io.debezium.function.Predicates` compiles them.

use regex::{Regex, RegexBuilder};

/// `entry` compiled as Debezium compiles a list entry: anchored at both ends and case-insensitive.
///
/// # Errors
/// When `entry` is not a regular expression this engine takes (look-arounds and back-references
/// are not supported).
pub fn debezium_pattern(entry: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&format!("^(?:{entry})$"))
        .case_insensitive(true)
        .build()
}

/// `regex` compiled as Kafka Connect's transforms compile theirs (`Pattern.compile`, then
/// `matches()`): anchored at both ends, case-sensitive.
///
/// # Errors
/// As [`debezium_pattern`].
pub fn java_pattern(regex: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{regex})$"))
}

#[cfg(test)]
mod tests {
    use super::debezium_pattern;

    #[test]
    fn a_pattern_matches_the_whole_name_ignoring_case() {
        let pattern = debezium_pattern("public\\.t.*").unwrap();
        assert!(pattern.is_match("public.t1"));
        assert!(pattern.is_match("PUBLIC.T1"));
        assert!(!pattern.is_match("xpublic.t1"));
        let alternatives = debezium_pattern("a|b").unwrap();
        assert!(alternatives.is_match("a") && alternatives.is_match("B"));
        assert!(
            !alternatives.is_match("ab"),
            "the alternation is anchored as a whole"
        );
        assert!(debezium_pattern("(?=x)").is_err());
    }
}
