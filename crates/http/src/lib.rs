//! The HTTP server every opdev service runs (faucet, explorer, indexer, exporter), so that all of
//! them hold a slow or idle client for a bounded time and answer every error in one format.
//!
//! - [`serve`] is the accept loop: HTTP/1.1 on each accepted connection with a deadline on the
//!   request head ([`HEADER_TIMEOUT`], which also closes idle keep-alive connections, since hyper
//!   starts that clock whenever it waits for the next request) and a graceful stop.
//! - [`harden`] wraps a router: each request body must arrive within [`BODY_TIMEOUT`] of the
//!   head, and every 4xx/5xx answer that is not already a JSON document or an HTML page — axum's
//!   empty 404 and 405, its plain-text extractor rejections — becomes the service's error format:
//!   `{"error": CODE, "message": TEXT}` for machine routes (`/api…`, `/metrics`, `/health…`,
//!   `/alerts`) and for services without pages, the service's HTML error page elsewhere. A 422
//!   (axum's answer to a well-formed body with wrong fields) becomes a 400, like every other
//!   malformed input.
//! - [`read_body`] reads a bounded body for handlers that parse it themselves.
//!
//! The choices are explained in `docs/http.md`.

use std::{
    convert::Infallible,
    fmt,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{ConnectInfo, Request},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{net::TcpListener, time::Sleep};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

#[cfg(feature = "probe")]
pub mod probe;

/// Deadline for a whole request head (request line and headers), counted from the moment the
/// server waits for it: on a new connection, and after each answer on a keep-alive connection.
/// A connection that sends no complete head in time is closed, so this is also the idle
/// keep-alive timeout.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for a whole request body, counted from the end of its head.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopping server waits for requests in progress before dropping them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Longest request path echoed back in an error message.
const ECHO: usize = 100;

/// Renders a service's HTML error page from a status and a message (which the function must
/// escape).
pub type PageFn = Arc<dyn Fn(StatusCode, &str) -> String + Send + Sync>;

/// The `error` code of a status, the same on every service.
pub fn code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "bad_request",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "body_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        431 => "headers_too_large",
        502 => "bad_gateway",
        503 => "unavailable",
        s if s >= 500 => "internal_error",
        _ => "error",
    }
}

/// `{"error": code, "message": message}` with `status`.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": code, "message": message })),
    )
        .into_response()
}

/// A `/metrics` answer: `text` in the OpenMetrics text format, with its content type.
pub fn openmetrics(text: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Whether a path is a machine route, answered in JSON even by a service with pages.
pub fn is_machine_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || ["/metrics", "/health", "/healthz", "/alerts"].contains(&path)
}

/// Adds the body deadline and the one error format to `router` (see the crate docs). `page`
/// renders the HTML error page of a service that has pages; `None` answers JSON everywhere.
pub fn harden(router: Router, page: Option<PageFn>) -> Router {
    router.layer(axum::middleware::from_fn(move |request, next| {
        shape(page.clone(), request, next)
    }))
}

async fn shape(page: Option<PageFn>, request: Request, next: Next) -> Response {
    let path: String = request.uri().path().chars().take(ECHO).collect();
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, Body::new(TimedBody::new(body, BODY_TIMEOUT)));
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let formatted =
        content_type.starts_with("application/json") || content_type.starts_with("text/html");
    if formatted && status != StatusCode::UNPROCESSABLE_ENTITY {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let message = message(status, &path, &text, formatted);
    let (content_type, body) = match &page {
        Some(page) if !is_machine_path(&path) => {
            ("text/html; charset=utf-8", page(status, &message))
        }
        _ => (
            "application/json",
            serde_json::json!({ "error": code(status), "message": message }).to_string(),
        ),
    };
    parts.status = status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Response::from_parts(parts, Body::from(body))
}

/// The message of a reshaped error: the text axum gave, or one made from the status.
fn message(status: StatusCode, path: &str, text: &[u8], formatted: bool) -> String {
    let given = String::from_utf8_lossy(text);
    let given = given.trim();
    if formatted {
        // A JSON 422: keep its message when it has one.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(given)
            && let Some(m) = v["message"].as_str()
        {
            return m.to_owned();
        }
    } else if !given.is_empty() {
        return given.chars().take(300).collect();
    }
    match status {
        StatusCode::NOT_FOUND => format!("nothing at {path:?}"),
        // The router adds the `Allow` header after this layer has run: the header names the
        // methods, the message only the path.
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("{path:?} does not take this method (the Allow header lists those it takes)")
        }
        other => other
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
    }
}

/// The error a request body gives when it did not arrive within [`BODY_TIMEOUT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout;

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            BODY_TIMEOUT.as_secs()
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// A request body that fails with [`BodyTimeout`] once its deadline has passed.
struct TimedBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
}

impl TimedBody {
    fn new(inner: Body, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why [`read_body`] gave no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Over the limit (413).
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Not complete within [`BODY_TIMEOUT`] (408).
    Timeout,
    /// The connection broke while reading (400).
    Read(String),
}

impl BodyError {
    /// Its status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Read(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Its `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read(_) => "bad_body",
            other => code(other.status()),
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "the request body is over {limit} bytes"),
            Self::Timeout => BodyTimeout.fmt(f),
            Self::Read(e) => write!(f, "read the body: {e}"),
        }
    }
}

/// Reads a body of at most `limit` bytes (within the deadline [`harden`] set). A longer one is
/// read on, up to `drain` bytes, and dropped before the caller answers 413: closing a connection
/// with unread data resets it, and the client might then never see the answer.
pub async fn read_body(body: Body, limit: usize, drain: usize) -> Result<Bytes, BodyError> {
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            let inner = e.into_inner();
            if inner.downcast_ref::<BodyTimeout>().is_some() {
                BodyError::Timeout
            } else {
                BodyError::Read(inner.to_string())
            }
        })?;
        total = total.saturating_add(chunk.len());
        if total <= limit {
            kept.extend_from_slice(&chunk);
        } else if total > drain {
            break;
        }
    }
    if total > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(Bytes::from(kept))
}

/// Serves `router` on `listener` until `stop` is cancelled, then lets requests in progress finish
/// for up to [`SHUTDOWN_GRACE`]. Each request carries the peer's address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, router: Router, stop: CancellationToken) {
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a little instead of spinning.
                    tracing::warn!(error = %e, "accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            let router = router.clone();
            async move { Ok::<_, Infallible>(router.oneshot(request).await.into_response()) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .keep_alive(true);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!(
            "requests still in progress after {} s: dropped",
            SHUTDOWN_GRACE.as_secs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_machine_paths() {
        assert_eq!(code(StatusCode::NOT_FOUND), "not_found");
        assert_eq!(code(StatusCode::UNPROCESSABLE_ENTITY), "bad_request");
        assert_eq!(code(StatusCode::TOO_MANY_REQUESTS), "rate_limited");
        assert!(is_machine_path("/api"));
        assert!(is_machine_path("/api/claim"));
        assert!(!is_machine_path("/apix"));
        assert!(is_machine_path("/metrics"));
        assert!(!is_machine_path("/"));
        assert!(!is_machine_path("/claim"));
    }
}
