//! The catalog: how a table is described, which tables the slot can carry.

use walbridge_event::{ColumnSchema, ReplicaIdentity, TableSchema};

use super::PgSlot;
use crate::error::SlotError;
use crate::snapshot::CapturedTable;

impl PgSlot {
    /// The catalog's description of a table (columns, key order, replica identity).
    pub(super) async fn describe_table(
        &mut self,
        schema: &str,
        table: &str,
    ) -> Result<TableSchema, SlotError> {
        let qualified = || format!("{schema}.{table}");
        let relation = self
            .client
            .query_opt(
                "SELECT c.oid, c.relreplident::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[&schema, &table],
            )
            .await
            .map_err(self.query_error("read a table from the catalog"))?
            .ok_or_else(|| SlotError::UnknownTable { table: qualified() })?;
        let oid: u32 = relation.get(0);
        let identity: String = relation.get(1);
        let columns = self
            .client
            .query(
                "SELECT a.attname::text, \
                 CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) \
                   ELSE format_type(a.atttypid, a.atttypmod) END, \
                 CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, \
                 a.attnotnull, pg_get_expr(d.adbin, d.adrelid), \
                 (SELECT string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder) FROM pg_enum e \
                   WHERE e.enumtypid = COALESCE(NULLIF(t.typelem, 0), t.oid)) \
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
                &[&oid],
            )
            .await
            .map_err(self.query_error("read a table's columns"))?
            .iter()
            .map(|row| {
                // a domain is encoded as its base type, as Debezium does
                let column = ColumnSchema::new(
                    row.get::<_, String>(0),
                    row.get::<_, String>(1),
                    row.get::<_, u32>(2),
                    row.get::<_, bool>(3),
                );
                // an enum's labels are its Connect schema's `allowed` parameter
                let column = match row.get::<_, Option<String>>(5) {
                    Some(labels) => column.with_enum_values(labels),
                    None => column,
                };
                match row.get::<_, Option<String>>(4) {
                    Some(default) => column.with_default(default),
                    None => column,
                }
            })
            .collect();
        let key: Vec<String> = self
            .client
            .query(
                "SELECT a.attname::text FROM pg_index i \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
                 WHERE i.indrelid = $1 AND i.indisprimary \
                 ORDER BY array_position(i.indkey::int2[], a.attnum)",
                &[&oid],
            )
            .await
            .map_err(self.query_error("read a table's primary key"))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        let identity = identity
            .chars()
            .next()
            .and_then(ReplicaIdentity::from_relreplident)
            .unwrap_or_default();
        TableSchema::new(schema, table, columns, &key, identity).map_err(|source| {
            SlotError::Schema {
                table: qualified(),
                source,
            }
        })
    }

    /// The tables the slot's windows can carry, in name order.
    pub(super) async fn capturable_tables(&mut self) -> Result<Vec<CapturedTable>, SlotError> {
        // What wal2json decodes: permanent ordinary tables (partitions under their own names).
        let rows = self
            .client
            .query(
                "SELECT n.nspname::text, c.relname::text, c.reltuples::int8 FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'r' AND c.relpersistence = 'p' \
                   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
                 ORDER BY 1, 2",
                &[],
            )
            .await
            .map_err(self.query_error("list the captured tables"))?;
        Ok(rows
            .iter()
            .map(|row| CapturedTable {
                schema: row.get(0),
                table: row.get(1),
                estimated_rows: row.get(2),
            })
            .collect())
    }
}
