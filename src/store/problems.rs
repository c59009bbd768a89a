//! The problems aggregate: import (insert or update by code, in one transaction) and loading.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, StoreError, StoreResult, new_id};
use crate::domain::problem::Problem;

/// A problem as stored, with its bookkeeping.
#[derive(Debug, Clone)]
pub struct StoredProblem {
    pub id: String,
    pub problem: Problem,
    pub content_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Problems absent from the import that were archived (only with `prune`).
    pub archived: usize,
}

/// Hash of a statement's canonical JSON: equal content, equal hash.
pub fn content_hash(p: &Problem) -> StoreResult<(String, String)> {
    let json = serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let hash = hex::encode(Sha256::digest(json.as_bytes()));
    Ok((json, hash))
}

impl Store {
    /// Inserts new codes, updates changed statements (an archived code that comes back is
    /// restored), and with `prune` archives codes absent from `problems`. One transaction.
    pub async fn import_problems(
        &self,
        problems: &[Problem],
        prune: bool,
        now_ms: i64,
    ) -> StoreResult<ImportCounts> {
        let mut tx = self.begin_write().await?;
        let mut counts = ImportCounts::default();
        for p in problems {
            let (json, hash) = content_hash(p)?;
            let existing =
                sqlx::query("SELECT content_hash, archived FROM problems WHERE code = $1")
                    .bind(p.code.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            match existing {
                None => {
                    sqlx::query(
                        "INSERT INTO problems (id, code, field, problem_group, agency, title_vi, title_en, \
                         statement, content_hash, archived, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10)",
                    )
                    .bind(new_id())
                    .bind(p.code.as_str())
                    .bind(p.field.code())
                    .bind(p.group.code())
                    .bind(&p.agency)
                    .bind(&p.title_vi)
                    .bind(&p.title_en)
                    .bind(&json)
                    .bind(&hash)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                    counts.created += 1;
                }
                Some(row) => {
                    let old_hash: String = row.try_get(0)?;
                    let archived: i64 = row.try_get(1)?;
                    if old_hash == hash && archived == 0 {
                        counts.unchanged += 1;
                        continue;
                    }
                    sqlx::query(
                        "UPDATE problems SET field = $1, problem_group = $2, agency = $3, title_vi = $4, \
                         title_en = $5, statement = $6, content_hash = $7, archived = 0, updated_at = $8 \
                         WHERE code = $9",
                    )
                    .bind(p.field.code())
                    .bind(p.group.code())
                    .bind(&p.agency)
                    .bind(&p.title_vi)
                    .bind(&p.title_en)
                    .bind(&json)
                    .bind(&hash)
                    .bind(now_ms)
                    .bind(p.code.as_str())
                    .execute(&mut *tx)
                    .await?;
                    counts.updated += 1;
                }
            }
        }
        if prune {
            let rows = sqlx::query("SELECT code FROM problems WHERE archived = 0")
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let code: String = row.try_get(0)?;
                if !problems.iter().any(|p| p.code.as_str() == code) {
                    sqlx::query(
                        "UPDATE problems SET archived = 1, updated_at = $1 WHERE code = $2",
                    )
                    .bind(now_ms)
                    .bind(&code)
                    .execute(&mut *tx)
                    .await?;
                    counts.archived += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Every problem not archived, ordered by code.
    pub async fn active_problems(&self) -> StoreResult<Vec<StoredProblem>> {
        let rows = sqlx::query(
            "SELECT id, statement, content_hash, created_at, updated_at FROM problems \
             WHERE archived = 0 ORDER BY code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| {
                let statement: String = row.try_get(1)?;
                let problem: Problem = serde_json::from_str(&statement)
                    .map_err(|e| StoreError::Corrupt(format!("problem statement: {e}")))?;
                Ok(StoredProblem {
                    id: row.try_get(0)?,
                    problem,
                    content_hash: row.try_get(2)?,
                    created_at: row.try_get(3)?,
                    updated_at: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// A cheap fingerprint of the catalog (row count and newest change), to notice changes made
    /// by another server instance.
    pub async fn problems_fingerprint(&self) -> StoreResult<(i64, i64)> {
        let row = sqlx::query("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM problems")
            .fetch_one(self.pool())
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }
}

/// Is `code` a published (not archived) problem?
pub async fn problem_exists<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    e: E,
    code: &str,
) -> StoreResult<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM problems WHERE code = $1 AND archived = 0")
            .bind(code)
            .fetch_one(e)
            .await?;
    Ok(n > 0)
}
