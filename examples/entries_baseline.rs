//! Benchmark baseline for the entries API: a bare poem server that does the least work each
//! request needs, on the same paths as dxcontest so one load tool drives both.
//!
//! `entries_baseline ADDR DATABASE_URL STORAGE_DIR`
//!
//! - `POST /api/v1/entries` inserts one row and answers `{"id": …}` (setup only).
//! - `PUT /api/v1/entries/{id}` parses the JSON body and runs one `UPDATE` (`?reads=N` adds N
//!   one-row SELECTs first, for diagnosis).
//! - `POST /api/v1/entries/{id}/attachments?name=…` streams the body to a temporary file while
//!   hashing it with SHA-256, makes it durable exactly as dxcontest's `LocalDisk` does (fsync,
//!   rename, fsync of the folder), then runs one `INSERT`.
//! - `POST /api/v1/entries/{id}/submit` runs one `INSERT` in a write transaction.
//!
//! No authentication, no checks, no audit, no mail. SQLite connections use the same settings as
//! dxcontest (WAL, `synchronous = NORMAL`, `BEGIN IMMEDIATE` for writes).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Json, Path, Query};
use poem::{Body, EndpointExt, Response, Route, Server, handler, post, put};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use tokio::io::AsyncWriteExt;

struct State {
    pool: AnyPool,
    sqlite: bool,
    dir: PathBuf,
    write: WriteMode,
}

/// How an upload reaches the file (`BASELINE_WRITE`, for diagnosis): `tokio` (the default, as
/// dxcontest's `LocalDisk`: `tokio::fs::File::write_all` per chunk, which copies each chunk into
/// the file's buffer of up to 2 MiB), `tokio64k` (the same with a 64 KiB buffer), or `std` (each
/// chunk written by a blocking task without a copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    Tokio,
    Tokio64k,
    Std,
}

type S<'a> = Data<&'a Arc<State>>;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn internal(e: impl std::fmt::Display) -> poem::Error {
    poem::Error::from_string(e.to_string(), StatusCode::INTERNAL_SERVER_ERROR)
}

async fn begin(state: &State) -> poem::Result<sqlx::Transaction<'static, sqlx::Any>> {
    if state.sqlite {
        state.pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        state.pool.begin().await
    }
    .map_err(internal)
}

#[handler]
async fn create(state: S<'_>, body: Json<serde_json::Value>) -> poem::Result<Response> {
    let id = uuid::Uuid::now_v7().to_string();
    let text = body.0.to_string();
    sqlx::query("INSERT INTO b_entries (id, body, updated_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(text)
        .bind(now_ms())
        .execute(&state.pool)
        .await
        .map_err(internal)?;
    Ok(Response::builder()
        .status(StatusCode::CREATED)
        .content_type("application/json")
        .body(serde_json::json!({ "id": id }).to_string()))
}

/// `?reads=N` (for diagnosis) adds N one-row SELECTs before the UPDATE, to show what each
/// statement costs.
#[derive(serde::Deserialize)]
struct SaveQuery {
    #[serde(default)]
    reads: u32,
}

#[handler]
async fn save(
    state: S<'_>,
    Path(id): Path<String>,
    Query(q): Query<SaveQuery>,
    body: Json<serde_json::Value>,
) -> poem::Result<Response> {
    for _ in 0..q.reads {
        sqlx::query("SELECT updated_at FROM b_entries WHERE id = $1")
            .bind(&id)
            .fetch_optional(&state.pool)
            .await
            .map_err(internal)?;
    }
    let text = body.0.to_string();
    let n = sqlx::query("UPDATE b_entries SET body = $1, updated_at = $2 WHERE id = $3")
        .bind(text)
        .bind(now_ms())
        .bind(&id)
        .execute(&state.pool)
        .await
        .map_err(internal)?
        .rows_affected();
    if n == 0 {
        return Err(poem::Error::from_status(StatusCode::NOT_FOUND));
    }
    Ok(Response::builder()
        .content_type("application/json")
        .body(serde_json::json!({ "id": id }).to_string()))
}

#[derive(serde::Deserialize)]
struct NameQuery {
    name: String,
}

#[handler]
async fn upload(
    state: S<'_>,
    Path(id): Path<String>,
    Query(q): Query<NameQuery>,
    body: Body,
) -> poem::Result<Response> {
    let file_id = uuid::Uuid::now_v7();
    let tmp = state.dir.join("tmp").join(format!("{file_id}.part"));
    let dest_dir = state.dir.join("objects");
    let dest = dest_dir.join(file_id.to_string());
    let mut file = tokio::fs::File::create(&tmp).await.map_err(internal)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut stream = body.into_bytes_stream();
    match state.write {
        WriteMode::Tokio | WriteMode::Tokio64k => {
            if state.write == WriteMode::Tokio64k {
                file.set_max_buf_size(64 << 10);
            }
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(internal)?;
                size += chunk.len() as u64;
                hasher.update(&chunk);
                file.write_all(&chunk).await.map_err(internal)?;
            }
            file.flush().await.map_err(internal)?;
            file.sync_all().await.map_err(internal)?;
        }
        WriteMode::Std => {
            // Each chunk is handed to a blocking thread as it is (no copy into a buffer).
            let mut std_file = Some(file.into_std().await);
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(internal)?;
                size += chunk.len() as u64;
                hasher.update(&chunk);
                let mut f = std_file.take().ok_or_else(|| internal("no file"))?;
                let (f, r) = tokio::task::spawn_blocking(move || {
                    let r = std::io::Write::write_all(&mut f, &chunk);
                    (f, r)
                })
                .await
                .map_err(internal)?;
                r.map_err(internal)?;
                std_file = Some(f);
            }
            let f = std_file.take().ok_or_else(|| internal("no file"))?;
            tokio::task::spawn_blocking(move || f.sync_all())
                .await
                .map_err(internal)?
                .map_err(internal)?;
        }
    }
    tokio::fs::rename(&tmp, &dest).await.map_err(internal)?;
    tokio::fs::File::open(&dest_dir)
        .await
        .map_err(internal)?
        .sync_all()
        .await
        .map_err(internal)?;
    let sha = hex::encode(hasher.finalize());
    sqlx::query(
        "INSERT INTO b_files (id, entry_id, name, size, sha256, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(file_id.to_string())
    .bind(&id)
    .bind(&q.name)
    .bind(size as i64)
    .bind(&sha)
    .bind(now_ms())
    .execute(&state.pool)
    .await
    .map_err(internal)?;
    Ok(Response::builder()
        .status(StatusCode::CREATED)
        .content_type("application/json")
        .body(
            serde_json::json!({ "id": file_id.to_string(), "size": size, "sha256": sha })
                .to_string(),
        ))
}

#[handler]
async fn submit(state: S<'_>, Path(id): Path<String>) -> poem::Result<Response> {
    let mut tx = begin(&state).await?;
    sqlx::query("INSERT INTO b_versions (id, entry_id, submitted_at) VALUES ($1, $2, $3)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(Response::builder()
        .status(StatusCode::CREATED)
        .content_type("application/json")
        .body(serde_json::json!({ "entry_id": id }).to_string()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18091".into());
    let url = args
        .next()
        .ok_or("usage: entries_baseline ADDR DATABASE_URL STORAGE_DIR")?;
    let dir = PathBuf::from(args.next().ok_or("STORAGE_DIR missing")?);
    std::fs::create_dir_all(dir.join("tmp"))?;
    std::fs::create_dir_all(dir.join("objects"))?;
    install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let url = if sqlite && !url.contains("mode=") {
        format!("{url}?mode=rwc")
    } else {
        url
    };
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                }
                Ok(())
            })
        })
        .connect_with(AnyConnectOptions::from_str(&url)?)
        .await?;
    for sql in [
        "CREATE TABLE IF NOT EXISTS b_entries (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS b_files (id TEXT PRIMARY KEY, entry_id TEXT NOT NULL, name TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, uploaded_at BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS b_versions (id TEXT PRIMARY KEY, entry_id TEXT NOT NULL, submitted_at BIGINT NOT NULL)",
    ] {
        sqlx::query(sql).execute(&pool).await?;
    }
    let write = match std::env::var("BASELINE_WRITE").as_deref() {
        Ok("tokio64k") => WriteMode::Tokio64k,
        Ok("std") => WriteMode::Std,
        _ => WriteMode::Tokio,
    };
    let state = Arc::new(State {
        pool,
        sqlite,
        dir,
        write,
    });
    let app = Route::new()
        .at("/api/v1/entries", post(create))
        .at("/api/v1/entries/:id", put(save))
        .at("/api/v1/entries/:id/attachments", post(upload))
        .at("/api/v1/entries/:id/submit", post(submit))
        .at("/ready", poem::get(poem::endpoint::make_sync(|_| "ok")))
        .data(state);
    let acceptor = TcpListener::bind(addr).into_acceptor().await?;
    match std::env::var("BASELINE_READ_CAP")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(cap) => {
            let capped = CappedAcceptor {
                inner: acceptor,
                cap,
            };
            Server::new_with_acceptor(capped).run(app).await?
        }
        None => Server::new_with_acceptor(acceptor).run(app).await?,
    }
    Ok(())
}

/// For diagnosis (`BASELINE_READ_CAP=BYTES`): connections whose reads return at most `cap`
/// bytes, which keeps hyper's adaptive read buffer small (poem does not expose hyper's
/// `max_buf_size`).
struct CappedAcceptor {
    inner: poem::listener::TcpAcceptor,
    cap: usize,
}

impl Acceptor for CappedAcceptor {
    type Io = CappedIo<tokio::net::TcpStream>;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(
        Self::Io,
        poem::web::LocalAddr,
        poem::web::RemoteAddr,
        poem::http::uri::Scheme,
    )> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((
            CappedIo {
                inner: io,
                cap: self.cap,
            },
            local,
            remote,
            scheme,
        ))
    }
}

struct CappedIo<T> {
    inner: T,
    cap: usize,
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for CappedIo<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let cap = self.cap.min(buf.remaining());
        let mut sub = buf.take(cap);
        let before = sub.filled().len();
        match std::pin::Pin::new(&mut self.inner).poll_read(cx, &mut sub) {
            std::task::Poll::Ready(Ok(())) => {
                let n = sub.filled().len() - before;
                // SAFETY: the inner reader initialized and filled these n bytes of `buf`'s
                // unfilled part (`sub` views the same memory).
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                std::task::Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for CappedIo<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
