//! [`TableSchema`]: what the envelope needs to know about a table beyond what one wal2json row says.

use crate::Error;
use crate::wal2json::Change;

/// `pg_class.relreplident`: what the old row carries for updates and deletes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ReplicaIdentity {
    /// `d`: the primary key (Debezium: `before` is null for updates, key columns only for deletes).
    #[default]
    Default,
    /// `f`: the whole old row (Debezium: complete `before` for updates and deletes).
    Full,
    /// `n`: nothing (wal2json skips updates and deletes of such tables).
    Nothing,
    /// `i`: the columns of a chosen unique index.
    Index,
}

impl ReplicaIdentity {
    /// From the `pg_class.relreplident` letter (`d`, `f`, `n`, `i`); `None` for anything else.
    pub fn from_relreplident(c: char) -> Option<Self> {
        Some(match c {
            'd' => ReplicaIdentity::Default,
            'f' => ReplicaIdentity::Full,
            'n' => ReplicaIdentity::Nothing,
            'i' => ReplicaIdentity::Index,
            _ => return None,
        })
    }
}

/// One column of a table, in table (attnum) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSchema {
    /// `attname`.
    pub name: String,
    /// `format_type(atttypid, atttypmod)`, the same text wal2json writes as `type` (e.g. `numeric(12,2)`).
    pub type_name: String,
    /// `atttypid`.
    pub type_oid: u32,
    /// `attnotnull`.
    pub not_null: bool,
    /// `pg_get_expr(adbin, adrelid)` of the column DEFAULT, if any: it becomes the Connect schema
    /// `default` (and, through JsonConverter, the value written for a NULL) as Debezium reads it — a
    /// constant's value, a function call's type stand-in (see `convert::default`).
    pub default: Option<String>,
    /// For an enum column (or an array of an enum), its labels in `enumsortorder`, comma-separated:
    /// Debezium's `io.debezium.data.Enum` `allowed` parameter.
    pub enum_values: Option<String>,
}

impl ColumnSchema {
    /// A column without a DEFAULT.
    pub fn new(
        name: impl Into<String>,
        type_name: impl Into<String>,
        type_oid: u32,
        not_null: bool,
    ) -> Self {
        ColumnSchema {
            name: name.into(),
            type_name: type_name.into(),
            type_oid,
            not_null,
            default: None,
            enum_values: None,
        }
    }

    /// Marks the column's type as an enum with these comma-separated labels.
    pub fn with_enum_values(mut self, labels: impl Into<String>) -> Self {
        self.enum_values = Some(labels.into());
        self
    }

    /// Sets the DEFAULT expression.
    pub fn with_default(mut self, expr: impl Into<String>) -> Self {
        self.default = Some(expr.into());
        self
    }
}

/// A table as the envelope sees it: columns in table order, the key, and the replica identity.
///
/// The PostgreSQL adapter fills it from `pg_attribute` (`attnum > 0 AND NOT attisdropped`, ordered by
/// `attnum`), `pg_index`/`pg_constraint` (primary key columns in key order) and `pg_class.relreplident`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    schema: String,
    table: String,
    columns: Vec<ColumnSchema>,
    key: Vec<usize>,
    replica_identity: ReplicaIdentity,
    /// `message.key.columns`: the Kafka key's columns when they are not the primary key.
    message_key: Option<Vec<usize>>,
    /// Per column, whether the value leaves it out (`column.include.list`/`column.exclude.list`).
    hidden: Vec<bool>,
}

impl TableSchema {
    /// Builds a table schema. `key_columns` are the primary-key column names in key (KEY_SEQ) order; empty
    /// means the table has no key and its records get a null Kafka key.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] when a key column is not among `columns`, is listed twice, or two columns
    /// share a name.
    pub fn new(
        schema: impl Into<String>,
        table: impl Into<String>,
        columns: Vec<ColumnSchema>,
        key_columns: &[&str],
        replica_identity: ReplicaIdentity,
    ) -> Result<Self, Error> {
        let schema = schema.into();
        let table = table.into();
        let invalid = |column: &str, reason| Error::InvalidSchema {
            table: format!("{schema}.{table}"),
            column: column.to_owned(),
            reason,
        };
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].iter().any(|o| o.name == c.name) {
                return Err(invalid(&c.name, "duplicate column name"));
            }
        }
        let mut key = Vec::with_capacity(key_columns.len());
        for name in key_columns {
            let idx = columns
                .iter()
                .position(|c| c.name == *name)
                .ok_or_else(|| invalid(name, "key column is not a column of the table"))?;
            if key.contains(&idx) {
                return Err(invalid(name, "key column listed twice"));
            }
            key.push(idx);
        }
        let hidden = vec![false; columns.len()];
        Ok(TableSchema {
            schema,
            table,
            columns,
            key,
            replica_identity,
            message_key: None,
            hidden,
        })
    }

    /// A best-effort schema from one wal2json change, for a table the catalog no longer has (dropped,
    /// renamed or moved after the change was written): columns from `columns` (or `identity` for a delete), NOT NULL from `optional`, the key from
    /// `pk` (in table order: wal2json does not say the key order), and FULL replica identity when the
    /// identity carries more than the key. Column DEFAULTs are unknown.
    pub fn from_change(change: &Change<'_>) -> Self {
        let source = if change.columns.is_empty() {
            change.identity.as_deref().unwrap_or_default()
        } else {
            &change.columns
        };
        let pk = change.pk.as_deref().unwrap_or_default();
        let columns: Vec<ColumnSchema> = source
            .iter()
            .map(|c| {
                let in_pk = pk.iter().any(|p| p.name == c.name);
                ColumnSchema::new(
                    c.name.as_ref(),
                    c.type_name.as_ref(),
                    c.type_oid.unwrap_or(0),
                    in_pk || c.optional == Some(false),
                )
            })
            .collect();
        let key = pk
            .iter()
            .filter_map(|p| columns.iter().position(|c| c.name == p.name))
            .collect();
        let identity_len = change.identity.as_ref().map_or(0, Vec::len);
        let replica_identity = if identity_len > pk.len() {
            ReplicaIdentity::Full
        } else {
            ReplicaIdentity::Default
        };
        TableSchema {
            schema: change.schema.to_string(),
            table: change.table.to_string(),
            hidden: vec![false; columns.len()],
            columns,
            key,
            replica_identity,
            message_key: None,
        }
    }

    /// This table as `change` saw it, when the catalog has moved on since (a column added,
    /// dropped or retyped after the change was written): the change's columns, each described by
    /// the catalog where name and type still agree and by the change otherwise; the key columns
    /// the change still has (else its `pk`).
    pub fn as_of(&self, change: &Change<'_>) -> Self {
        let source = if change.columns.is_empty() {
            change.identity.as_deref().unwrap_or_default()
        } else {
            &change.columns
        };
        let pk = change.pk.as_deref().unwrap_or_default();
        let columns: Vec<ColumnSchema> = source
            .iter()
            .map(|c| {
                let same = |s: &&ColumnSchema| {
                    s.name == c.name
                        && s.type_name == c.type_name
                        && c.type_oid.is_none_or(|oid| oid == s.type_oid)
                };
                match self.columns.iter().find(same) {
                    Some(known) => known.clone(),
                    None => ColumnSchema::new(
                        c.name.as_ref(),
                        c.type_name.as_ref(),
                        c.type_oid.unwrap_or(0),
                        pk.iter().any(|p| p.name == c.name) || c.optional == Some(false),
                    ),
                }
            })
            .collect();
        let position = |name: &str| columns.iter().position(|c| c.name == name);
        let mut key: Vec<usize> = self
            .key
            .iter()
            .filter_map(|&k| position(&self.columns[k].name))
            .collect();
        if key.len() != self.key.len() {
            key = pk.iter().filter_map(|p| position(&p.name)).collect();
        }
        TableSchema {
            schema: self.schema.clone(),
            table: self.table.clone(),
            hidden: vec![false; columns.len()],
            columns,
            key,
            replica_identity: self.replica_identity,
            message_key: None,
        }
    }

    /// Schema (namespace) name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Columns in table order.
    pub fn columns(&self) -> &[ColumnSchema] {
        &self.columns
    }

    /// Indexes into [`Self::columns`] of the key columns, in key order.
    pub fn key(&self) -> &[usize] {
        &self.key
    }

    /// The replica identity.
    pub fn replica_identity(&self) -> ReplicaIdentity {
        self.replica_identity
    }

    /// Keys the Kafka records by `columns` (in this order) instead of the primary key, as
    /// `message.key.columns` does; the primary key still orders a snapshot's reads.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] when a column is not a column of the table or is listed twice.
    pub fn with_message_key(mut self, columns: &[&str]) -> Result<Self, Error> {
        let mut key = Vec::with_capacity(columns.len());
        for name in columns {
            let invalid = |reason| Error::InvalidSchema {
                table: format!("{}.{}", self.schema, self.table),
                column: (*name).to_owned(),
                reason,
            };
            let idx = self
                .columns
                .iter()
                .position(|c| c.name == *name)
                .ok_or_else(|| invalid("message key column is not a column of the table"))?;
            if key.contains(&idx) {
                return Err(invalid("message key column listed twice"));
            }
            key.push(idx);
        }
        self.message_key = Some(key);
        Ok(self)
    }

    /// Leaves the columns `keep` refuses out of the value (`before`, `after` and their schema);
    /// the key keeps them, as Debezium's does.
    pub fn with_value_columns(mut self, keep: impl Fn(&ColumnSchema) -> bool) -> Self {
        self.hidden = self.columns.iter().map(|c| !keep(c)).collect();
        self
    }

    /// Indexes of the Kafka key's columns, in key order: [`Self::with_message_key`]'s, or the
    /// primary key.
    pub fn message_key(&self) -> &[usize] {
        self.message_key.as_deref().unwrap_or(&self.key)
    }

    /// Whether the key is `message.key.columns`' rather than the primary key.
    pub fn has_message_key(&self) -> bool {
        self.message_key.is_some()
    }

    /// Whether the value leaves column `idx` out.
    pub fn is_hidden(&self, idx: usize) -> bool {
        self.hidden.get(idx).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal2json::{Row, decode};

    #[test]
    fn key_columns_keep_key_order_not_table_order() {
        let t = TableSchema::new(
            "s",
            "t",
            vec![
                ColumnSchema::new("a", "integer", 23, true),
                ColumnSchema::new("b", "text", 25, true),
            ],
            &["b", "a"],
            ReplicaIdentity::Default,
        )
        .unwrap();
        assert_eq!(t.key(), [1, 0]);
    }

    #[test]
    fn unknown_or_repeated_key_columns_are_rejected() {
        let cols = || vec![ColumnSchema::new("a", "integer", 23, true)];
        let err = TableSchema::new("s", "t", cols(), &["x"], ReplicaIdentity::Default).unwrap_err();
        assert!(matches!(err, Error::InvalidSchema { column, .. } if column == "x"));
        assert!(TableSchema::new("s", "t", cols(), &["a", "a"], ReplicaIdentity::Default).is_err());
        let dup = vec![
            ColumnSchema::new("a", "integer", 23, true),
            ColumnSchema::new("a", "text", 25, false),
        ];
        assert!(TableSchema::new("s", "t", dup, &[], ReplicaIdentity::Default).is_err());
    }

    #[test]
    fn a_schema_can_be_derived_from_a_wal2json_change() {
        let row = r#"{"action":"U","xid":741,"lsn":"0/1546C58","schema":"inventory","table":"readings","columns":[{"name":"id","type":"bigint","typeoid":20,"value":1,"optional":false},{"name":"s","type":"smallint","typeoid":21,"value":8,"optional":true}],"identity":[{"name":"id","type":"bigint","typeoid":20,"value":1},{"name":"s","type":"smallint","typeoid":21,"value":7}],"pk":[{"name":"id","type":"bigint","typeoid":20}]}"#;
        let Row::Change(c) = decode(row).unwrap() else {
            panic!("not a change")
        };
        let t = TableSchema::from_change(&c);
        assert_eq!((t.schema(), t.table()), ("inventory", "readings"));
        assert_eq!(t.columns()[0], ColumnSchema::new("id", "bigint", 20, true));
        assert_eq!(
            t.columns()[1],
            ColumnSchema::new("s", "smallint", 21, false)
        );
        assert_eq!(t.key(), [0]);
        assert_eq!(t.replica_identity(), ReplicaIdentity::Full);
    }

    #[test]
    fn a_table_as_an_older_change_saw_it_keeps_what_the_catalog_still_agrees_on() {
        let now = TableSchema::new(
            "s",
            "t",
            vec![
                ColumnSchema::new("id", "integer", 23, true),
                ColumnSchema::new("b", "integer", 23, false).with_default("5"),
            ],
            &["id"],
            ReplicaIdentity::Full,
        )
        .unwrap();
        // Written before `a` was dropped and `b` became an integer.
        let row = r#"{"action":"I","xid":741,"lsn":"0/1","schema":"s","table":"t","columns":[{"name":"id","type":"integer","typeoid":23,"value":1,"optional":false},{"name":"a","type":"integer","typeoid":23,"value":2,"optional":true},{"name":"b","type":"text","typeoid":25,"value":"x","optional":true}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#;
        let Row::Change(c) = decode(row).unwrap() else {
            panic!("not a change")
        };
        let then = now.as_of(&c);
        assert_eq!(
            then.columns(),
            [
                ColumnSchema::new("id", "integer", 23, true),
                ColumnSchema::new("a", "integer", 23, false),
                ColumnSchema::new("b", "text", 25, false),
            ]
        );
        assert_eq!(then.key(), [0]);
        assert_eq!(then.replica_identity(), ReplicaIdentity::Full);
    }

    #[test]
    fn relreplident_letters_map_to_identities() {
        assert_eq!(
            ReplicaIdentity::from_relreplident('f'),
            Some(ReplicaIdentity::Full)
        );
        assert_eq!(ReplicaIdentity::from_relreplident('x'), None);
    }
}
