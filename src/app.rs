//! Wires config, store, mail and routes into a running server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::middleware::CookieJarManager;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Server, get};
use tracing::Instrument;

use crate::api;
use crate::config::{Config, LogConfig, LogFormat};
use crate::i18n::Lang;
use crate::mail::{Dispatcher, MailError};
use crate::service::Ctx;
use crate::service::catalog::Catalog;
use crate::service::problems::{ImportError, import_dir};
use crate::store::{Store, StoreError};
use crate::web::{self, pages::ContestNames};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("first-start import of problems failed:\n{0}")]
    Import(#[from] ImportError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("cannot prepare the attachment folder {path} (entries.storage_dir): {source}")]
    Storage {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Sets up logging once per process, from `[log]` (`RUST_LOG` overrides the filter).
pub fn init_tracing(config: &LogConfig) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Connects, migrates, and imports the problems folder when the catalog is empty.
pub async fn prepare(config: &Config) -> Result<(Store, Arc<Catalog>), AppError> {
    let store = Store::connect(&config.database).await?;
    store.migrate().await?;
    let (count, _) = store.problems_fingerprint().await?;
    if count == 0 && config.problems.import_on_first_start {
        if config.problems.dir.is_dir() {
            let counts = import_dir(&store, None, &config.problems.dir, false).await?;
            tracing::info!(created = counts.created, dir = %config.problems.dir.display(), "imported problems at first start");
        } else {
            tracing::warn!(dir = %config.problems.dir.display(), "no problems folder; the catalog starts empty");
        }
    }
    let catalog = Arc::new(Catalog::load(&store).await?);
    Ok((store, catalog))
}

/// A built server, bound to its address, not yet serving.
pub struct Application {
    acceptor: crate::listener::CappedAcceptor,
    addr: SocketAddr,
    endpoint: poem::endpoint::BoxEndpoint<'static, Response>,
    store: Store,
    catalog: Arc<Catalog>,
    refresh_every: Duration,
    grace: Duration,
    dispatcher: Option<Dispatcher>,
    ctx: Ctx,
}

impl Application {
    /// Prepares the database and binds `server.listen` (port 0 picks a free port).
    pub async fn build(config: &Config) -> Result<Application, AppError> {
        let (store, catalog) = prepare(config).await?;
        let addr = config.server.listen;
        let acceptor = TcpListener::bind(addr)
            .into_acceptor()
            .await
            .map_err(|source| AppError::Listen { addr, source })?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .unwrap_or(addr);
        let acceptor = crate::listener::CappedAcceptor { inner: acceptor };
        let names = ContestNames {
            vi: config.contest.name_vi.clone(),
            en: config.contest.name_en.clone(),
        };
        // The dispatcher is built now so that services can wake it; it starts with the server.
        let (dispatcher, mail_wake) = if config.mail.dispatcher.enabled {
            let d = Dispatcher::new(store.clone(), &config.mail)?;
            let wake = d.notifier();
            (Some(d), wake)
        } else {
            (None, Arc::new(tokio::sync::Notify::new()))
        };
        let ctx =
            Ctx::new(store.clone(), Arc::new(config.clone()), mail_wake).map_err(|source| {
                AppError::Storage {
                    path: config.entries.storage_dir.display().to_string(),
                    source,
                }
            })?;
        let endpoint = routes(ctx.clone(), Arc::clone(&catalog), names);
        Ok(Application {
            acceptor,
            addr,
            endpoint,
            store,
            catalog,
            refresh_every: Duration::from_secs(config.problems.refresh_secs),
            grace: Duration::from_secs(config.server.shutdown_grace_secs),
            dispatcher,
            ctx,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The use-case context the server runs with (tests drive services through it).
    pub fn ctx(&self) -> Ctx {
        self.ctx.clone()
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog)
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish within the grace
    /// period and stops the background tasks (the mail dispatcher hands back unsent claims).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let dispatcher = self.dispatcher.map(Dispatcher::start);
        let refresher = {
            let (store, catalog, every) = (
                self.store.clone(),
                Arc::clone(&self.catalog),
                self.refresh_every,
            );
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match catalog.refresh_if_changed(&store).await {
                        Ok(true) => {
                            tracing::info!("catalog reloaded after a change in the database")
                        }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(error = %e, "catalog refresh check failed"),
                    }
                }
            })
        };
        tracing::info!(addr = %self.addr, "listening");
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.endpoint, shutdown, Some(self.grace))
            .await;
        refresher.abort();
        if let Some(d) = dispatcher
            && !d.shutdown_within(self.grace).await
        {
            tracing::warn!("mail dispatcher did not stop within the grace period");
        }
        self.store.close().await;
        tracing::info!("stopped");
        result.map_err(|source| AppError::Listen {
            addr: self.addr,
            source,
        })
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}

fn routes(
    ctx: Ctx,
    catalog: Arc<Catalog>,
    names: ContestNames,
) -> poem::endpoint::BoxEndpoint<'static, Response> {
    let api_service = api::service(Arc::clone(&catalog));
    let spec = api_service.spec_endpoint();
    let docs = api_service.swagger_ui();
    let error_names = Arc::new(names.clone());
    // The two catalog reads are served by plain endpoints in front of the OpenAPI service, which
    // still documents them: the nested OpenAPI route costs a good share of their throughput.
    let reads = Arc::new(api::problems::CatalogReads::new(Arc::clone(&catalog)));
    web::routes()
        .at(
            format!("{}/problems", api::BASE),
            get(api::problems::ListProblems(Arc::clone(&reads))),
        )
        .at(
            format!("{}/problems/:code", api::BASE),
            get(api::problems::GetProblem(reads)),
        )
        .nest(api::BASE, api_service)
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .at("/health", get(api::health::health))
        .at("/ready", get(api::health::ready))
        .around(move |ep, mut req| {
            // What handlers read with `Data<&T>`, inserted here rather than by a `.data()` layer
            // each: every layer holds and moves the request's future once more.
            let data = req.extensions_mut();
            data.insert(ctx.store.clone());
            data.insert(ctx.clone());
            data.insert(Arc::clone(&catalog));
            data.insert(names.clone());
            let names = Arc::clone(&error_names);
            // Boxed once here, so that the layer outside moves a pointer.
            async move { Ok(Box::pin(edge(ep, req, &names)).await) }
        })
        .with(CookieJarManager::new())
        .boxed()
}

/// Largest request body accepted outside upload routes.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Refuses bodies over `MAX_BODY_BYTES` with 413, whether announced by Content-Length or sent
/// chunked (then read up to the limit).
async fn limit_body(mut req: Request) -> poem::Result<Request> {
    use poem::http::StatusCode;
    if is_upload(&req) {
        // Streamed to storage under the entries' own limits. The body is the raw file whatever
        // the client labels it (`curl --data-binary` says form-urlencoded); the content is
        // checked by its bytes.
        req.headers_mut().insert(
            poem::http::header::CONTENT_TYPE,
            poem::http::HeaderValue::from_static("application/octet-stream"),
        );
        return Ok(req);
    }
    let too_large = || poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE);
    let declared = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > MAX_BODY_BYTES as u64 => {
            // Let the client finish sending (up to a point) so it reads the 413.
            let mut rest: crate::files::ByteStream<'static> = Box::pin(
                req.take_body()
                    .into_bytes_stream()
                    .map_err(std::io::Error::other),
            );
            crate::files::discard_rest(&mut rest).await;
            return Err(too_large());
        }
        Some(_) => {}
        None if req.header(poem::http::header::TRANSFER_ENCODING).is_some() => {
            let mut stream: crate::files::ByteStream<'static> = Box::pin(
                req.take_body()
                    .into_bytes_stream()
                    .map_err(std::io::Error::other),
            );
            let mut buf = bytes::BytesMut::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|_| too_large())?;
                if buf.len() + chunk.len() > MAX_BODY_BYTES {
                    crate::files::discard_rest(&mut stream).await;
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            req.set_body(buf.freeze());
        }
        None => {}
    }
    Ok(req)
}

/// Attachment uploads: `POST …/entries/{id}/attachments`, in the API and the pages.
fn is_upload(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == poem::http::Method::POST
        && path.ends_with("/attachments")
        && (path.starts_with("/api/v1/entries/") || path.starts_with("/entries/"))
        && path.matches('/').count() == if path.starts_with("/api/") { 5 } else { 3 }
}

/// The one layer around every route: a request id and one log line per request (id, method,
/// path, status, latency), the body limit (JSON bodies and forms are small; uploads get their own
/// limit on their route), the remembered language, and one error shape per surface.
async fn edge<E: Endpoint>(ep: E, mut req: Request, names: &ContestNames) -> Response {
    req.extensions_mut()
        .insert(crate::service::ReceivedAt(crate::service::now_ms()));
    // The caller's id when it is usable (sent back as it came), else a fresh one.
    let id = req
        .headers()
        .get("x-request-id")
        .filter(|v| {
            let b = v.as_bytes();
            !b.is_empty() && b.len() <= 64 && b.iter().all(u8::is_ascii_graphic)
        })
        .cloned()
        .or_else(|| poem::http::HeaderValue::try_from(crate::store::new_id()).ok());
    let method = req.method().clone();
    // Shares the request's bytes; no copy of the path.
    let uri = req.uri().clone();
    let path = uri.path();
    let span = tracing::info_span!(
        "request",
        request_id = %id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default(),
        %method,
        %path
    );
    let started = Instant::now();
    let lang = Lang::detect(&req);
    web::remember_language(&req);
    let result = async {
        let req = limit_body(req).await?;
        ep.call(req).await.map(IntoResponse::into_response)
    }
    .instrument(span.clone())
    .await;
    let mut resp = match result {
        Ok(resp) => resp,
        Err(err) if path == "/api" || path.starts_with("/api/") => {
            api::error::to_problem_response(err, lang)
        }
        Err(err) => web::error_page(err, path, lang, names),
    };
    let status = resp.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status, latency_ms, "request"));
    if let Some(id) = id {
        resp.headers_mut().insert("x-request-id", id);
    }
    resp
}
