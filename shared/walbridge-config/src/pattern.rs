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

/// A Java replacement string (`Matcher.replaceFirst`: `$n`, `${name}`, `\x` for a literal `x`) in
/// the `regex` crate's syntax. Java reads `$12` as group 12 only when the pattern has 12 groups,
/// else as group 1 followed by `2`; the result names its groups with braces, so nothing is read
/// differently.
///
/// # Errors
/// A `$` not followed by a group, or a group the pattern does not have, as Java refuses them.
pub fn java_replacement(java: &str, regex: &Regex) -> Result<String, String> {
    let groups = regex.captures_len() - 1;
    let mut out = String::with_capacity(java.len());
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(c) => out.push(c),
                None => return Err("ends with a lone backslash (escape it as \\\\)".to_owned()),
            },
            '$' => match chars.peek() {
                Some('{') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    if regex.capture_names().flatten().all(|n| n != name) {
                        return Err(format!(
                            "names the group {name}, which the regex does not have"
                        ));
                    }
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut group = d.to_digit(10).expect("a digit") as usize;
                    chars.next();
                    while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                        let longer = group * 10 + next as usize;
                        if longer > groups {
                            break;
                        }
                        group = longer;
                        chars.next();
                    }
                    if group > groups {
                        return Err(format!(
                            "refers to group {group}, but the regex has {groups} group(s)"
                        ));
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                _ => {
                    return Err(
                        "has a $ that names no group (write \\$ for a literal dollar)".to_owned(),
                    );
                }
            },
            c => out.push(c),
        }
    }
    Ok(out)
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
