//! API authentication: a session token sent as `Authorization: Bearer <token>`. The pages use
//! the same sessions through an HttpOnly cookie instead (see `web`).

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::service::{Actor, Ctx, accounts};

/// A session token from `POST /sessions`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_session")]
pub struct SessionAuth(pub Actor);

async fn check_session(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let ctx = req
        .data::<Ctx>()
        .ok_or_else(|| poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR))?;
    match accounts::authenticate(ctx, &bearer.token, client_ip(req)).await {
        Ok(Some(mut actor)) => {
            actor.received_at = crate::service::ReceivedAt::of(req.extensions());
            Ok(actor)
        }
        Ok(None) => Err(poem::Error::from_status(
            poem::http::StatusCode::UNAUTHORIZED,
        )),
        Err(e) => {
            tracing::error!(error = %e, "session check failed");
            Err(poem::Error::from_status(
                poem::http::StatusCode::INTERNAL_SERVER_ERROR,
            ))
        }
    }
}

/// The client's IP address as seen by this server.
pub fn client_ip(req: &Request) -> Option<String> {
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string())
}
