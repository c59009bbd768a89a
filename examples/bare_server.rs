//! Benchmark baseline: a bare poem server that answers fixed paths with fixed bytes from memory.
//!
//! `bare_server ADDR PATH=FILE [PATH=FILE ...]` serves each FILE's bytes as JSON at PATH.

use std::collections::HashMap;
use std::sync::Arc;

use poem::http::StatusCode;
use poem::listener::TcpListener;
use poem::{Request, Response, Server, handler};

#[handler]
fn serve(req: &Request, bodies: poem::web::Data<&Arc<HashMap<String, bytes::Bytes>>>) -> Response {
    let key = match req.uri().query() {
        Some(q) => format!("{}?{q}", req.uri().path()),
        None => req.uri().path().to_owned(),
    };
    match bodies.get(&key) {
        Some(body) => Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(body.clone()),
        None => StatusCode::NOT_FOUND.into(),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18081".into());
    let mut bodies = HashMap::new();
    for spec in args {
        let (path, file) = spec
            .split_once('=')
            .ok_or_else(|| std::io::Error::other("use PATH=FILE"))?;
        bodies.insert(path.to_owned(), bytes::Bytes::from(std::fs::read(file)?));
    }
    use poem::EndpointExt;
    let app = poem::Route::new().at("/*", serve).data(Arc::new(bodies));
    Server::new(TcpListener::bind(addr)).run(app).await
}
