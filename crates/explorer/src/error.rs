//! The explorer's request failures and how they are shown: a bad request is 400, something that
//! does not exist is 404, a database that does not answer is 503 — each as an HTML page on the
//! pages and as `{"error": CODE, "message": TEXT}` on the JSON API (the format of every opdev
//! service, see `opdev_http`). Nothing a client sends can make a 500: handlers only return these.

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

use crate::{AppState, db::DbError, html};

/// Why a request could not be answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The request is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The database does not answer (503).
    #[error("the database is unavailable")]
    Unavailable,
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        tracing::warn!(error = %e, "database request failed");
        Self::Unavailable
    }
}

impl AppError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `error` code of the JSON answer.
    pub fn code(&self) -> &'static str {
        opdev_http::code(self.status())
    }

    /// The JSON answer.
    pub fn json(&self) -> Response {
        opdev_http::json_error(self.status(), self.code(), &self.to_string())
    }

    /// The HTML page.
    pub fn html(&self, state: &AppState) -> Response {
        let status = self.status();
        (status, Html(error_page(state, status, &self.to_string()))).into_response()
    }
}

/// The HTML page of an error with `status` and `message` (escaped here), in the explorer's layout.
pub fn error_page(state: &AppState, status: StatusCode, message: &str) -> String {
    let title = match status {
        StatusCode::BAD_REQUEST => "Bad request",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::SERVICE_UNAVAILABLE => "Unavailable",
        other => other.canonical_reason().unwrap_or("Error"),
    };
    let body = format!(
        "<h1>{}</h1><p class=\"error\">{}</p><p><a href=\"/\">Home</a></p>",
        html::esc(title),
        html::esc(message)
    );
    html::page(state, None, title, &body)
}
