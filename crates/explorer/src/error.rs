//! The explorer's request failures and how they are shown: a bad request is 400, something that
//! does not exist is 404, a database that does not answer is 503 — each as an HTML page on the
//! pages and as `{"error": …, "status": …}` on the JSON API. Nothing a client sends can make a
//! 500: handlers only return these.

use axum::{
    Json,
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

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

    /// The JSON answer.
    pub fn json(&self) -> Response {
        let status = self.status();
        (
            status,
            Json(json!({"error": self.to_string(), "status": status.as_u16()})),
        )
            .into_response()
    }

    /// The HTML page.
    pub fn html(&self, state: &AppState) -> Response {
        let status = self.status();
        let title = match self {
            Self::BadRequest(_) => "Bad request",
            Self::NotFound(_) => "Not found",
            Self::Unavailable => "Unavailable",
        };
        let body = format!(
            "<h1>{}</h1><p class=\"error\">{}</p><p><a href=\"/\">Home</a></p>",
            html::esc(title),
            html::esc(&self.to_string())
        );
        (status, Html(html::page(state, None, title, &body))).into_response()
    }
}
