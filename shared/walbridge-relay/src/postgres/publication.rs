//! The publication a pgoutput slot is read through, as Debezium's `publication.*` properties
//! handle it: made when missing (`all_tables`, `filtered`, `no_tables`), kept to the captured
//! tables (`filtered`), and checked to carry every captured table and operation, so that no change
//! is left out without an error.

use std::collections::BTreeSet;

use tracing::{info, warn};
use walbridge_config::{PublicationAutocreate, TablePattern};

use super::PgSlot;
use crate::error::SlotError;

/// The first PostgreSQL release walbridge reads pgoutput on (`server_version_num`).
const PGOUTPUT_SINCE: i32 = 150_000;

/// `name` as an SQL identifier: always quoted, so the name is used as PostgreSQL stores it.
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table as an SQL name.
fn quote_table(table: &TablePattern) -> String {
    format!(
        "{}.{}",
        quote_ident(&table.schema),
        quote_ident(&table.table)
    )
}

fn table_list(tables: &[TablePattern]) -> String {
    tables
        .iter()
        .map(quote_table)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `pg_publication` says of a publication.
struct Found {
    all_tables: bool,
    operations: [(&'static str, bool); 4],
    via_root: bool,
}

impl PgSlot {
    /// Checks the publication of a pgoutput slot: it exists, it carries the captured tables (and
    /// the signal table) and the operations not skipped, and it names changes of partitions as
    /// `publish.via.partition.root` says (by partition, or by partitioned root). With
    /// `apply` (an invocation, not `validate`), a missing one is created as
    /// `publication.autocreate.mode` says, and under `filtered` one listing other tables is set to
    /// the captured ones.
    ///
    /// # Errors
    /// [`SlotError::PublicationMissing`], [`SlotError::PublicationForAllTables`],
    /// [`SlotError::PublicationViaRoot`], [`SlotError::PublicationNotViaRoot`],
    /// [`SlotError::PublicationOperations`],
    /// [`SlotError::PublicationIncomplete`], [`SlotError::Query`].
    pub async fn check_publication(&self, apply: bool) -> Result<(), SlotError> {
        // Logical decoding messages from 14, skipped empty transactions (what the relay's
        // `source.sequence` follows, as Debezium's on 15) and column lists and row filters (which
        // are checked for) from 15.
        if self.server_version < PGOUTPUT_SINCE {
            return Err(SlotError::PgoutputTooOld {
                version: self.server_version,
            });
        }
        let name = self.publication.name.as_str();
        let ident = quote_ident(name);
        let mode = self.publication.autocreate;
        let wanted = self.publication_wanted().await?;
        // as Debezium creates it: the option only when asked for
        let with = if self.publication.via_root {
            " WITH (publish_via_partition_root = true)"
        } else {
            ""
        };
        let found = match self.find_publication().await? {
            Some(found) => found,
            None => {
                let create = match mode {
                    PublicationAutocreate::AllTables => {
                        format!("CREATE PUBLICATION {ident} FOR ALL TABLES{with}")
                    }
                    PublicationAutocreate::NoTables => format!("CREATE PUBLICATION {ident}{with}"),
                    PublicationAutocreate::Filtered | PublicationAutocreate::Disabled
                        if wanted.is_empty() =>
                    {
                        format!("CREATE PUBLICATION {ident}{with}")
                    }
                    PublicationAutocreate::Filtered | PublicationAutocreate::Disabled => {
                        format!(
                            "CREATE PUBLICATION {ident} FOR TABLE {}{with}",
                            table_list(&wanted)
                        )
                    }
                };
                let slot_exists = self
                    .client
                    .query_opt(
                        "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                        &[&self.slot],
                    )
                    .await
                    .map_err(self.query_error("look up the replication slot"))?
                    .is_some();
                let missing = |creatable: bool| {
                    let fix = if slot_exists {
                        format!(
                            "run {create}; — pgoutput decodes a slot's changes only from its \
                             publication's creation on, and walbridge creates a publication only \
                             with its slot: the changes slot {} holds from before cannot be read \
                             through it (PostgreSQL 15-17 fail the window), so recreate the slot \
                             after the publication (drop it, and set slot.create=true)",
                            self.slot
                        )
                    } else if mode == PublicationAutocreate::Disabled {
                        format!(
                            "run {create}; or set publication.autocreate.mode (all_tables, \
                             filtered or no_tables) to let walbridge create it"
                        )
                    } else {
                        format!(
                            "the first invocation creates it ({create};) before the slot, as \
                             publication.autocreate.mode={} says",
                            mode.name()
                        )
                    };
                    SlotError::PublicationMissing {
                        publication: name.to_owned(),
                        database: self.database.clone(),
                        sql: format!("{create};"),
                        creatable,
                        fix,
                    }
                };
                let creatable = mode != PublicationAutocreate::Disabled && !slot_exists;
                if !apply || !creatable {
                    return Err(missing(creatable));
                }
                self.client
                    .batch_execute(&create)
                    .await
                    .map_err(self.query_error("create the publication"))?;
                info!(publication = name, statement = %create, "created publication");
                self.find_publication()
                    .await?
                    .ok_or_else(|| missing(false))?
            }
        };
        match (found.via_root, self.publication.via_root) {
            (true, false) => {
                return Err(SlotError::PublicationViaRoot {
                    publication: name.to_owned(),
                    ident,
                });
            }
            (false, true) => {
                return Err(SlotError::PublicationNotViaRoot {
                    publication: name.to_owned(),
                    ident,
                });
            }
            _ => {}
        }
        let skipped = self.skipped;
        let needed = [
            !skipped.creates,
            !skipped.updates,
            !skipped.deletes,
            !skipped.truncates,
        ];
        let missing: Vec<&str> = found
            .operations
            .iter()
            .zip(needed)
            .filter(|((_, published), needed)| *needed && !published)
            .map(|((operation, _), _)| *operation)
            .collect();
        if !missing.is_empty() {
            return Err(SlotError::PublicationOperations {
                publication: name.to_owned(),
                ident,
                operations: missing.join(", "),
            });
        }
        let filtered = self
            .client
            .query_opt(
                "SELECT n.nspname::text || '.' || c.relname::text FROM pg_publication_rel pr \
                 JOIN pg_publication p ON p.oid = pr.prpubid JOIN pg_class c ON c.oid = pr.prrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE p.pubname = $1 AND (pr.prattrs IS NOT NULL OR pr.prqual IS NOT NULL) \
                 ORDER BY 1 LIMIT 1",
                &[&self.publication.name],
            )
            .await
            .map_err(self.query_error("read the publication's column lists and row filters"))?;
        if let Some(row) = filtered {
            return Err(SlotError::PublicationFilters {
                publication: name.to_owned(),
                ident,
                table: row.get(0),
            });
        }
        if found.all_tables {
            if mode == PublicationAutocreate::Filtered && apply {
                return Err(SlotError::PublicationForAllTables {
                    publication: name.to_owned(),
                    ident,
                });
            }
            return Ok(());
        }
        let mut listed = self.publication_tables().await?;
        if mode == PublicationAutocreate::Filtered
            && apply
            && !wanted.is_empty()
            && listed != wanted.iter().cloned().collect::<BTreeSet<_>>()
        {
            let added: Vec<String> = wanted
                .iter()
                .filter(|t| !listed.contains(*t))
                .map(ToString::to_string)
                .collect();
            if !added.is_empty() {
                // pgoutput decodes each change with the publication as it was then.
                warn!(
                    publication = name,
                    tables = %added.join(", "),
                    "captured tables added to the publication: their changes from before now are \
                     not in it and are not published (all_tables has no such gap)"
                );
            }
            let alter = format!(
                "ALTER PUBLICATION {ident} SET TABLE {}",
                table_list(&wanted)
            );
            self.client
                .batch_execute(&alter)
                .await
                .map_err(self.query_error("set the publication's tables"))?;
            info!(publication = name, statement = %alter, "publication set to the captured tables");
            listed = self.publication_tables().await?;
        }
        let uncovered: Vec<TablePattern> =
            wanted.into_iter().filter(|t| !listed.contains(t)).collect();
        if uncovered.is_empty() {
            return Ok(());
        }
        Err(SlotError::PublicationIncomplete {
            publication: name.to_owned(),
            tables: uncovered
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            sql: format!(
                "ALTER PUBLICATION {ident} ADD TABLE {};",
                table_list(&uncovered)
            ),
        })
    }

    async fn find_publication(&self) -> Result<Option<Found>, SlotError> {
        let row = self
            .client
            .query_opt(
                "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot \
                 FROM pg_publication WHERE pubname = $1",
                &[&self.publication.name],
            )
            .await
            .map_err(self.query_error("look up the publication"))?;
        Ok(row.map(|row| Found {
            all_tables: row.get(0),
            operations: [
                ("insert", row.get(1)),
                ("update", row.get(2)),
                ("delete", row.get(3)),
                ("truncate", row.get(4)),
            ],
            via_root: row.get(5),
        }))
    }

    /// The tables the publication lists (partitions under their own names).
    async fn publication_tables(&self) -> Result<BTreeSet<TablePattern>, SlotError> {
        let rows = self
            .client
            .query(
                "SELECT schemaname::text, tablename::text FROM pg_publication_tables \
                 WHERE pubname = $1",
                &[&self.publication.name],
            )
            .await
            .map_err(self.query_error("list the publication's tables"))?;
        Ok(rows
            .iter()
            .map(|row| TablePattern {
                schema: row.get(0),
                table: row.get(1),
            })
            .collect())
    }

    /// The tables the publication must carry: the captured tables whose changes are decoded
    /// (partitions, not their parents — or the partitioned roots, publishing via the root) and
    /// the signal table, in name order.
    async fn publication_wanted(&self) -> Result<Vec<TablePattern>, SlotError> {
        let mut wanted: Vec<TablePattern> = self
            .matched_tables(&self.tables)
            .await?
            .into_iter()
            .filter(|t| t.decoded)
            .map(|t| t.table)
            .collect();
        if let Some(signal) = &self.signal_table {
            let found = self
                .client
                .query_opt(
                    "SELECT n.nspname::text, c.relname::text FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = $1 AND c.relname = $2",
                    &[&signal.schema, &signal.table],
                )
                .await
                .map_err(self.query_error("look up the signal table"))?;
            if found.is_some() && !wanted.contains(signal) {
                wanted.push(signal.clone());
            }
        }
        wanted.sort_by(|a, b| (&a.schema, &a.table).cmp(&(&b.schema, &b.table)));
        wanted.dedup();
        Ok(wanted)
    }
}
