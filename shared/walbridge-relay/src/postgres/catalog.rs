//! The catalog: how a table is described, which tables the slot can carry.

use walbridge_config::{TableFilter, TablePattern};
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
        Ok(self
            .catalog_tables()
            .await?
            .into_iter()
            .filter(|t| t.decoded)
            .map(|t| CapturedTable {
                schema: t.table.schema,
                table: t.table.table,
                estimated_rows: t.estimated_rows,
            })
            .collect())
    }

    /// The tables the table filters capture, partitioned parents and partitions included
    /// (`validate`: a parent listed beside its partitions matches a table, though only the ones
    /// [`MatchedTable::decoded`] says carry changes).
    ///
    /// # Errors
    /// [`SlotError::Query`] when the catalog cannot be read.
    pub async fn matched_tables(
        &self,
        filter: &TableFilter,
    ) -> Result<Vec<MatchedTable>, SlotError> {
        let mut tables = self.catalog_tables().await?;
        tables.retain(|t| filter.captures(&t.table.schema, &t.table.table));
        Ok(tables)
    }

    /// The one definition of a table walbridge can capture: a permanent ordinary table (a
    /// partition under its own name, as wal2json decodes it), or a partitioned table, whose
    /// changes are named by its partitions — or, publishing via the partition root, by the
    /// partitioned root, and none by a partition. Unlogged and temporary tables never reach the
    /// WAL's logical decoding; the system schemas are never captured.
    async fn catalog_tables(&self) -> Result<Vec<MatchedTable>, SlotError> {
        let rows = self
            .client
            .query(CAPTURABLE_TABLES, &[])
            .await
            .map_err(self.query_error("list the captured tables"))?;
        Ok(rows
            .iter()
            .map(|row| {
                let identity: String = row.get(3);
                let primary_key: bool = row.get(4);
                let partitioned = row.get::<_, String>(2) == "p";
                let partition: bool = row.get(6);
                MatchedTable {
                    table: TablePattern {
                        schema: row.get(0),
                        table: row.get(1),
                    },
                    partitioned,
                    decoded: if self.via_root {
                        !partition
                    } else {
                        !partitioned
                    },
                    changes_captured: identity == "f"
                        || identity == "i"
                        || (identity == "d" && primary_key),
                    estimated_rows: row.get(5),
                }
            })
            .collect())
    }
}

/// See [`PgSlot::catalog_tables`]: schema, table, kind, replica identity, whether it has a
/// primary key, estimated rows (a partitioned table's: its partitions'), whether it is a partition.
const CAPTURABLE_TABLES: &str = "SELECT n.nspname::text, c.relname::text, c.relkind::text, \
     c.relreplident::text, \
     EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), \
     CASE WHEN c.relkind = 'p' THEN (SELECT COALESCE(sum(GREATEST(l.reltuples, 0)), 0)::int8 \
       FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf) \
       ELSE c.reltuples::int8 END, \
     c.relispartition \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' \
       AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
     ORDER BY 1, 2";

/// A table the table filters capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedTable {
    /// The table's schema and name (never `*`).
    pub table: TablePattern,
    /// A partitioned table (relkind `p`).
    pub partitioned: bool,
    /// Whether changes are decoded under this table's name: a partition's are under its own, a
    /// partitioned table's under its partitions' — or, when the publication publishes via the
    /// partition root, under its topmost partitioned root's, and a partition decodes none.
    pub decoded: bool,
    /// Whether updates and deletes can be captured with their key: a primary key under REPLICA
    /// IDENTITY DEFAULT, a replica identity index, or REPLICA IDENTITY FULL.
    pub changes_captured: bool,
    /// `reltuples`: the planner's estimate (-1: never analysed).
    pub estimated_rows: i64,
}
