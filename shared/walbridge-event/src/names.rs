//! `schema.name.adjustment.mode` and `field.name.adjustment.mode`: how Debezium 3.7.1 turns
//! Connect schema names and field names into ones Avro accepts (`io.debezium.schema.SchemaNameAdjuster`
//! with the replacement functions `CommonConnectorConfig` picks for each mode).
//!
//! Debezium works on Java `char`s, so a character outside the Basic Multilingual Plane is two
//! UTF-16 units, each judged and replaced on its own; so are they here.

use std::borrow::Cow;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// One mode of `schema.name.adjustment.mode` or `field.name.adjustment.mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum NameAdjustment {
    /// `none` (Debezium's default): names are written as they are.
    #[default]
    None,
    /// `avro`: every character Avro does not allow becomes `_`; a leading digit keeps its place
    /// after an added `_`.
    Avro,
    /// `avro_unicode`: every character Avro does not allow, `_` included, becomes `_uXXXX` (its
    /// UTF-16 unit in hexadecimal), so that different names stay different.
    AvroUnicode,
}

/// What a name is: schema names are dot-separated full names, field names single names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Schema,
    Field,
}

impl NameAdjustment {
    /// The property values, as Debezium spells them, and the modes they name.
    pub const VALUES: &'static [(&'static str, Self)] = &[
        ("none", NameAdjustment::None),
        ("avro", NameAdjustment::Avro),
        ("avro_unicode", NameAdjustment::AvroUnicode),
    ];

    /// The mode a property value names, as Debezium reads it (trimmed, any case); `None` for a
    /// value that is not one.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        Self::VALUES
            .iter()
            .find(|(name, _)| value.eq_ignore_ascii_case(name))
            .map(|&(_, mode)| mode)
    }

    /// A Connect schema name (`<prefix>.<schema>.<table>.Value`…) under this mode: dots separate
    /// the namespace's parts and stay.
    pub fn schema_name(self, name: &str) -> Cow<'_, str> {
        self.adjust(name, Target::Schema)
    }

    /// A field name (a column's) under this mode: a dot is replaced too.
    pub fn field_name(self, name: &str) -> Cow<'_, str> {
        self.adjust(name, Target::Field)
    }

    fn adjust(self, name: &str, target: Target) -> Cow<'_, str> {
        let unicode = match self {
            NameAdjustment::None => return Cow::Borrowed(name),
            NameAdjustment::Avro => false,
            NameAdjustment::AvroUnicode => true,
        };
        // `_` is the escape of avro_unicode, so there it is never valid as it is.
        let valid_first = |u: u16| {
            u8::try_from(u).is_ok_and(|b| b.is_ascii_alphabetic() || (!unicode && b == b'_'))
        };
        let valid_next = |u: u16| {
            valid_first(u)
                || u8::try_from(u)
                    .is_ok_and(|b| b.is_ascii_digit() || (target == Target::Schema && b == b'.'))
        };
        let units: Vec<u16> = name.encode_utf16().collect();
        let valid = |(i, &u): (usize, &u16)| {
            if i == 0 {
                valid_first(u)
            } else {
                valid_next(u)
            }
        };
        if units.iter().enumerate().all(valid) {
            return Cow::Borrowed(name);
        }
        let mut out = String::with_capacity(name.len() + 8);
        for (i, &u) in units.iter().enumerate() {
            if valid((i, &u)) {
                out.push(char::from(u8::try_from(u).unwrap_or(b'_')));
            } else if unicode {
                // Java's `Integer.toHexString`, padded with "00" only when it has at most two
                // digits: 0x9 is `_u009`, 0x100 is `_u100`.
                let hex = format!("{u:x}");
                out.push_str("_u");
                if hex.len() <= 2 {
                    out.push_str("00");
                }
                out.push_str(&hex);
            } else {
                out.push('_');
                // A leading digit (any Unicode decimal digit, as `Character.isDigit`) is kept, so
                // that `1a` and `2a` stay apart.
                let digit = char::from_u32(u32::from(u))
                    .filter(|c| c.general_category() == GeneralCategory::DecimalNumber);
                if let (0, Some(c)) = (i, digit) {
                    out.push(c);
                }
            }
        }
        Cow::Owned(out)
    }
}

/// An Avro full name as Debezium's `SchemaNameAdjuster` made it before `schema.name.adjustment.mode`
/// (2.0 made `none` the default): every character but `[A-Za-z0-9_.]` (and a leading digit or dot)
/// becomes `_` — one per UTF-16 unit, as Java counts characters.
pub(crate) fn legacy_avro_fullname(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let valid =
            c == '_' || c.is_ascii_alphabetic() || (i > 0 && (c == '.' || c.is_ascii_digit()));
        if valid {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('_', c.len_utf16()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::NameAdjustment::{self, Avro, AvroUnicode};
    use super::legacy_avro_fullname;

    #[test]
    fn none_writes_names_as_they_are() {
        let none = NameAdjustment::None;
        assert_eq!(
            none.schema_name("my-server.s.t$1.Value"),
            "my-server.s.t$1.Value"
        );
        assert_eq!(none.field_name("a-b"), "a-b");
    }

    /// Name, then `schema.name.adjustment.mode` avro and avro_unicode, then
    /// `field.name.adjustment.mode` avro and avro_unicode: as Debezium 3.7.1's own adjusters
    /// (`SchemaNameAdjustmentMode`/`FieldNameAdjustmentMode.createAdjuster()`) returned them.
    #[rustfmt::skip]
    const DEBEZIUM: &[[&str; 5]] = &[
        ["test-prefix.s.t.Value", "test_prefix.s.t.Value", "test_u002dprefix.s.t.Value", "test_prefix_s_t_Value", "test_u002dprefix_u002es_u002et_u002eValue"],
        ["a", "a", "a", "a", "a"],
        ["_a.b_c.C9", "_a.b_c.C9", "_u005fa.b_u005fc.C9", "_a_b_c_C9", "_u005fa_u002eb_u005fc_u002eC9"],
        ["1a", "_1a", "_u0031a", "_1a", "_u0031a"],
        [".a", "_a", "_u002ea", "_a", "_u002ea"],
        ["a.b-c", "a.b_c", "a.b_u002dc", "a_b_c", "a_u002eb_u002dc"],
        ["a.b$c.é", "a.b_c._", "a.b_u0024c._u00e9", "a_b_c__", "a_u002eb_u0024c_u002e_u00e9"],
        ["😀", "__", "_ud83d_ude00", "__", "_ud83d_ude00"],
        ["", "", "", "", ""],
        ["a.b", "a.b", "a.b", "a_b", "a_u002eb"],
        ["1st", "_1st", "_u0031st", "_1st", "_u0031st"],
        ["my field", "my_field", "my_u0020field", "my_field", "my_u0020field"],
        ["_ok_9", "_ok_9", "_u005fok_u005f9", "_ok_9", "_u005fok_u005f9"],
        ["٣x", "_٣x", "_u663x", "_٣x", "_u663x"],
        ["²x", "_x", "_u00b2x", "_x", "_u00b2x"],
        ["a_b", "a_b", "a_u005fb", "a_b", "a_u005fb"],
        ["_a", "_a", "_u005fa", "_a", "_u005fa"],
        ["a.b1", "a.b1", "a.b1", "a_b1", "a_u002eb1"],
        ["é", "_", "_u00e9", "_", "_u00e9"],
        ["a\tb", "a_b", "a_u009b", "a_b", "a_u009b"],
        ["aĀ", "a_", "a_u100", "a_", "a_u100"],
        ["中", "_", "_u4e2d", "_", "_u4e2d"],
    ];

    #[test]
    fn names_are_adjusted_as_debezium_adjusts_them() {
        for [name, schema_avro, schema_unicode, field_avro, field_unicode] in DEBEZIUM {
            assert_eq!(Avro.schema_name(name), *schema_avro, "{name:?}");
            assert_eq!(AvroUnicode.schema_name(name), *schema_unicode, "{name:?}");
            assert_eq!(Avro.field_name(name), *field_avro, "{name:?}");
            assert_eq!(AvroUnicode.field_name(name), *field_unicode, "{name:?}");
        }
    }

    #[test]
    fn modes_are_read_as_debezium_reads_them() {
        assert_eq!(NameAdjustment::parse(" AVRO "), Some(Avro));
        assert_eq!(NameAdjustment::parse("avro_unicode"), Some(AvroUnicode));
        assert_eq!(NameAdjustment::parse("None"), Some(NameAdjustment::None));
        assert_eq!(NameAdjustment::parse("avro-unicode"), None);
    }

    #[test]
    fn avro_names_replace_what_avro_refuses_as_java_counts_characters() {
        assert_eq!(
            legacy_avro_fullname("test-prefix.s.t.Value"),
            "test_prefix.s.t.Value"
        );
        assert_eq!(legacy_avro_fullname("1a.b$c.é.😀"), "_a.b_c._.__");
        assert_eq!(legacy_avro_fullname(".a"), "_a");
        assert_eq!(legacy_avro_fullname("a_b.C9"), "a_b.C9");
    }
}
