//! Loading problem statements from a folder: check (validate only) and import (one transaction,
//! idempotent, codes stable). A malformed file imports nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::domain::problem::{Problem, ProblemFileError};
use crate::store::problems::ImportCounts;
use crate::store::{Store, StoreError};

use super::catalog::Catalog;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ProblemFileError>),
    #[error("{0} holds no problem files (*.md)")]
    Empty(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads and validates every `*.md` file of `dir` (sorted by name). Reports every malformed file,
/// not just the first, and duplicate codes.
pub fn load_dir(dir: &Path) -> Result<Vec<Problem>, ImportError> {
    let read_err = |path: &Path, source| ImportError::Read {
        path: path.to_owned(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| read_err(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ImportError::Empty(dir.to_owned()));
    }
    let mut problems = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for path in &files {
        let name = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| read_err(path, e))?;
        match Problem::parse(&name, &source) {
            Ok(p) => {
                if let Some(first) = seen.insert(p.code.as_str().to_owned(), name.clone()) {
                    errors.push(ProblemFileError {
                        file: name,
                        line: 2,
                        field: "code".into(),
                        message: format!("'{}' is already used by {first}", p.code),
                    });
                } else {
                    problems.push(p);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(problems)
    } else {
        Err(ImportError::Invalid(errors))
    }
}

/// Imports `dir` in one transaction and refreshes the catalog.
pub async fn import_dir(
    store: &Store,
    catalog: Option<&Catalog>,
    dir: &Path,
    prune: bool,
) -> Result<ImportCounts, ImportError> {
    let owned = dir.to_owned();
    let problems = tokio::task::spawn_blocking(move || load_dir(&owned))
        .await
        .map_err(|e| ImportError::Read {
            path: dir.to_owned(),
            source: std::io::Error::other(e),
        })??;
    let counts = store
        .import_problems(&problems, prune, super::now_ms())
        .await?;
    if let Some(catalog) = catalog {
        catalog.refresh(store).await?;
    }
    Ok(counts)
}
