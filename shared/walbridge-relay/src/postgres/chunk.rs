//! A snapshot chunk's read: prepared statements in one short read-only transaction.

use walbridge_event::{Lsn, TableSchema};

use super::{CHUNK_BYTES, FIRST_FETCH_ROWS, PgSlot, WAL_INSERTED, WindowState, rows_within};
use crate::error::SlotError;
use crate::snapshot::{ChunkRead, XidSnapshot};

impl PgSlot {
    /// See [`ChangeSource::read_chunk`](crate::source::ChangeSource::read_chunk).
    pub(super) async fn read_chunk_rows(
        &mut self,
        table: &TableSchema,
        after: Option<&[String]>,
        filter: Option<&str>,
        limit: u32,
        later: &[(String, String)],
    ) -> Result<ChunkRead, SlotError> {
        if self.window != WindowState::Closed {
            self.end_transaction().await?;
        }
        let chunk_sql = chunk_query(table, after.is_some(), filter, limit);
        let key_values: Vec<&str> = after
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        if key_values.len() != table.key().len() && after.is_some() {
            // The key changed since the last chunk (other columns, or another count of them).
            return Err(SlotError::SnapshotKeyChanged {
                table: format!("{}.{}", table.schema(), table.table()),
            });
        }
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = key_values
            .iter()
            .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        // One short read-only transaction: what it saw, how far the WAL had come after that, the
        // rows, and whether later tables have rows (for the `last` marker), all under the same
        // snapshot. Each statement is prepared on its own (the extended protocol), so the filter a
        // signal brought can neither end the transaction nor add a statement.
        let read = async {
            let transaction = self
                .client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let meta = transaction
                .query_one(
                    &format!(
                        "SELECT pg_current_snapshot()::text, {WAL_INSERTED}::text, \
                         (extract(epoch FROM transaction_timestamp()) * 1000000)::int8"
                    ),
                    &[],
                )
                .await?;
            // Through a cursor, so a chunk of wide rows stops at about CHUNK_BYTES.
            transaction
                .execute(
                    &format!("DECLARE walbridge_chunk NO SCROLL CURSOR FOR {chunk_sql}"),
                    &params,
                )
                .await?;
            let wanted = limit as usize + 1;
            let mut rows: Vec<Vec<Option<String>>> = Vec::new();
            let (mut bytes, mut step, mut cut) = (0, FIRST_FETCH_ROWS.min(wanted), false);
            loop {
                let fetched = transaction
                    .query(&format!("FETCH FORWARD {step} FROM walbridge_chunk"), &[])
                    .await?;
                let count = fetched.len();
                for row in &fetched {
                    let values: Vec<Option<String>> = (0..row.len()).map(|i| row.get(i)).collect();
                    bytes += values.iter().flatten().map(String::len).sum::<usize>();
                    rows.push(values);
                }
                if count < step || rows.len() >= wanted {
                    break;
                }
                // A keyless table cannot be read on from where a chunk stopped: read it whole.
                if bytes >= CHUNK_BYTES && !table.key().is_empty() {
                    cut = true;
                    break;
                }
                step = rows_within(
                    CHUNK_BYTES - bytes.min(CHUNK_BYTES),
                    bytes / rows.len(),
                    wanted - rows.len(),
                )
                .max(1);
            }
            // Only the later tables that still exist and may be read are probed: one dropped since
            // the snapshot started must not fail this table's chunk.
            let (schemas, tables): (Vec<&str>, Vec<&str>) = later
                .iter()
                .map(|(schema, table)| (schema.as_str(), table.as_str()))
                .unzip();
            let readable = transaction
                .query(
                    "SELECT l.s, l.t FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS l(s, t, i) \
                     WHERE EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                       WHERE n.nspname = l.s AND c.relname = l.t AND has_table_privilege(c.oid, 'SELECT')) \
                     ORDER BY l.i",
                    &[&schemas, &tables],
                )
                .await?;
            let exists: Vec<String> = readable
                .iter()
                .map(|row| {
                    format!(
                        "EXISTS (SELECT 1 FROM {}.{})",
                        quote_ident(row.get(0)),
                        quote_ident(row.get(1))
                    )
                })
                .collect();
            let later_rows = if exists.is_empty() {
                false
            } else {
                let probe = format!("SELECT {}", exists.join(" OR "));
                transaction.query_one(&probe, &[]).await?.get(0)
            };
            transaction.commit().await?;
            Ok::<_, tokio_postgres::Error>((meta, rows, later_rows, cut))
        };
        let read = read.await;
        let (meta, mut rows, later_rows, cut) =
            read.map_err(self.query_error("read a snapshot chunk"))?;
        let malformed = |what: &str| SlotError::Malformed {
            slot: self.slot.clone(),
            what: format!(
                "snapshot chunk of {}.{}: {what}",
                table.schema(),
                table.table()
            ),
        };
        let visible = meta.get::<_, String>(0);
        let (Some(visible), Ok(lsn)) = (
            XidSnapshot::parse(&visible),
            meta.get::<_, String>(1).parse::<Lsn>(),
        ) else {
            return Err(malformed("no snapshot position"));
        };
        let read_time_us: i64 = meta.get(2);
        // Cut short by bytes: the next chunk reads on from the last row (and is empty if none is left).
        let more = cut || rows.len() > limit as usize;
        if more {
            if table.key().is_empty() {
                return Err(SlotError::SnapshotKeyless {
                    table: format!("{}.{}", table.schema(), table.table()),
                    limit,
                });
            }
            rows.truncate(limit as usize);
        }
        Ok(ChunkRead {
            rows,
            visible,
            lsn,
            read_time_us,
            more,
            later_rows,
        })
    }

    /// See [`ChangeSource::check_filter`](crate::source::ChangeSource::check_filter).
    pub(super) async fn prepare_filter(
        &mut self,
        schema: &str,
        table: &str,
        filter: &str,
    ) -> Result<(), SlotError> {
        // Prepared (parsed and planned against the catalog), never executed: a second statement,
        // an unknown column or a condition that is not boolean is refused here.
        let sql = format!(
            "SELECT 1 FROM {}.{} WHERE ({filter})",
            quote_ident(schema),
            quote_ident(table)
        );
        self.client
            .prepare(&sql)
            .await
            .map_err(self.query_error("check a signal's additional condition"))?;
        Ok(())
    }
}

/// `"name"` with embedded quotes doubled: an identifier PostgreSQL reads back as exactly `name`.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The chunk query for `schema`: every column as the text its output function prints (what a
/// streamed change carries), rows after the key in the bind parameters `$1…$n` (one text per key
/// column, cast to the column's type) in key order, `limit + 1` rows so the caller learns whether more
/// follow. A table without a key is read whole (the caller refuses it when it exceeds `limit`).
///
/// Identifiers come from the catalog and are quoted; key values are bind parameters, never part of
/// the text. The filter (`additional-conditions`) is user SQL: the caller runs the query as one
/// prepared statement in a read-only transaction, so it cannot end that transaction or add another
/// statement.
pub fn chunk_query(schema: &TableSchema, after: bool, filter: Option<&str>, limit: u32) -> String {
    let columns: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| {
            let name = quote_ident(&c.name);
            // format's %s prints through the type's output function; a cast to text would not
            // (booleans, char(n) padding, inet).
            format!("CASE WHEN {name} IS NULL THEN NULL ELSE format('%s', {name}) END")
        })
        .collect();
    let mut sql = format!(
        "SELECT {} FROM {}.{}",
        columns.join(", "),
        quote_ident(schema.schema()),
        quote_ident(schema.table())
    );
    let key: Vec<&walbridge_event::ColumnSchema> =
        schema.key().iter().map(|&i| &schema.columns()[i]).collect();
    let mut conditions = Vec::new();
    if let Some(filter) = filter {
        conditions.push(format!("({filter})"));
    }
    if key.is_empty() {
        if !conditions.is_empty() {
            sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
        }
        sql.push_str(&format!(" LIMIT {}", u64::from(limit) + 1));
        return sql;
    }
    let key_list = key
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    if after {
        let values = key
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::text::{}", i + 1, c.type_name))
            .collect::<Vec<_>>()
            .join(", ");
        conditions.push(format!("({key_list}) > ({values})"));
    }
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    sql.push_str(&format!(
        " ORDER BY {key_list} LIMIT {}",
        u64::from(limit) + 1
    ));
    sql
}

#[cfg(test)]
mod tests {
    use walbridge_event::{ColumnSchema, ReplicaIdentity};

    use super::*;

    fn table(key: &[&str]) -> TableSchema {
        TableSchema::new(
            "we\"ird",
            "t",
            vec![
                ColumnSchema::new("id", "integer", 23, true),
                ColumnSchema::new("name", "text", 25, false),
            ],
            key,
            ReplicaIdentity::Default,
        )
        .unwrap()
    }

    #[test]
    fn chunk_queries_quote_what_they_embed_and_bind_the_key() {
        let text =
            |c: &str| format!("CASE WHEN \"{c}\" IS NULL THEN NULL ELSE format('%s', \"{c}\") END");
        let select = format!("SELECT {}, {}", text("id"), text("name"));
        assert_eq!(
            chunk_query(&table(&["id", "name"]), false, None, 10),
            format!(r#"{select} FROM "we""ird"."t" ORDER BY "id", "name" LIMIT 11"#)
        );
        assert_eq!(
            chunk_query(&table(&["id", "name"]), true, None, 10),
            format!(
                r#"{select} FROM "we""ird"."t" WHERE ("id", "name") > ($1::text::integer, $2::text::text) ORDER BY "id", "name" LIMIT 11"#
            )
        );
        assert_eq!(
            chunk_query(&table(&[]), false, None, 10),
            format!(r#"{select} FROM "we""ird"."t" LIMIT 11"#)
        );
        assert_eq!(
            chunk_query(&table(&["id"]), true, Some("name <> 'x'"), 10),
            format!(
                r#"{select} FROM "we""ird"."t" WHERE (name <> 'x') AND ("id") > ($1::text::integer) ORDER BY "id" LIMIT 11"#
            )
        );
    }
}
