//! The one place opdev writes to the terminal. Commands hand it lines, tables, JSON values and
//! errors; it honours `--json` (machine output on stdout, nothing else there), `--quiet` (errors
//! only) and colour (`--color`, `NO_COLOR`, whether stderr is a terminal). A closed pipe
//! (`opdev logs | head`) ends output quietly instead of panicking.

use std::io::{IsTerminal, Write};

use opdev_orchestrator::Error;

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// When writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Terminal output of one opdev invocation.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    json: bool,
    quiet: bool,
    color: bool,
}

impl Printer {
    pub(crate) fn new(json: bool, quiet: bool, color: ColorChoice) -> Self {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
            }
        };
        Self { json, quiet, color }
    }

    /// Whether machine output was asked for.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(crate) fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// A line of the command's result, on stdout (not in JSON mode, not when quiet).
    pub(crate) fn line(&self, text: impl AsRef<str>) {
        if !self.json && !self.quiet {
            out(text.as_ref());
        }
    }

    /// Data the user asked for (logs): on stdout even when quiet, never in JSON mode.
    pub(crate) fn data(&self, text: impl AsRef<str>) {
        if !self.json {
            out(text.as_ref());
        }
    }

    /// Progress of a long step, on stderr (not in JSON mode, not when quiet).
    pub(crate) fn progress(&self, text: impl AsRef<str>) {
        if !self.json && !self.quiet {
            err_line(&self.dim(text.as_ref()));
        }
    }

    /// A question on stderr, answered by a line of stdin.
    pub(crate) fn ask(&self, question: &str) -> String {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{question} ").and_then(|()| stderr.flush());
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        answer.trim().to_owned()
    }

    /// A JSON result on stdout (JSON mode only).
    pub(crate) fn json(&self, value: &serde_json::Value) {
        if self.json {
            out(&serde_json::to_string_pretty(value).expect("JSON values serialize"));
        }
    }

    /// A table with a header row, columns padded to fit.
    pub(crate) fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let fmt_row = |cells: Vec<String>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        self.line(format!(
            "  {}",
            self.bold(&fmt_row(header.iter().map(|h| (*h).to_owned()).collect()))
        ));
        for row in rows {
            self.line(format!("  {}", fmt_row(row.clone())));
        }
    }

    /// An error: the cause on one line, then a hint and any details, on stderr (also in JSON
    /// mode, where stdout gets `{"error": …}` as well).
    pub(crate) fn error(&self, err: &Error) {
        err_line(&format!("{} {err}", self.red(&self.bold("error:"))));
        if let Some(hint) = err.hint() {
            err_line(&format!("  {} {hint}", self.bold("hint:")));
        }
        let details = err.details();
        if !details.is_empty() {
            err_line("  last log lines:");
            for line in details {
                err_line(&format!("  {} {line}", self.dim("|")));
            }
        }
        if self.json {
            let value = serde_json::json!({
                "error": err.to_string(),
                "hint": err.hint(),
                "exit_code": err.exit_code() as u8,
            });
            out(&value.to_string());
        }
    }
}

fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}").is_err() {
        // The reader went away (a closed pipe): nothing more can be shown.
        std::process::exit(0);
    }
}

fn err_line(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
