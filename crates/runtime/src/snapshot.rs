//! JSON files a program rewrites in place (anvil truncates its state file and writes it again
//! at every save), so a kill during a write leaves them cut short — and a program that refuses a
//! cut-short file (anvil does) would never start again. Before every start the supervisor checks
//! each such file ([`opdev_spec::ServiceSpec::snapshots`]): a complete document is copied to
//! `<file>.last-start`; a cut-short one is set aside as `<file>.broken` and the copy taken at the
//! previous start is put back, so the service starts from that earlier state instead of not at
//! all.

use std::path::{Path, PathBuf};

/// Checks `file` before a start. Returns a note for the service's log when it had to repair it,
/// and an error only when the file system refuses.
pub fn check(file: &Path) -> Result<Option<String>, String> {
    let copy = with_suffix(file, "last-start");
    match complete(file) {
        None => Ok(None),
        Some(true) => {
            replace_with_copy(file, &copy)?;
            Ok(None)
        }
        Some(false) => {
            let broken = with_suffix(file, "broken");
            std::fs::rename(file, &broken)
                .map_err(|e| format!("set {} aside: {e}", file.display()))?;
            if complete(&copy) == Some(true) {
                replace_with_copy(&copy, file)?;
                Ok(Some(format!(
                    "{} was cut short (the program was killed while writing it); kept it as {} \
                     and restored the copy taken at the previous start",
                    file.display(),
                    broken.display()
                )))
            } else {
                Ok(Some(format!(
                    "{} was cut short (the program was killed while writing it) and there is no \
                     earlier copy; kept it as {} and starting without it",
                    file.display(),
                    broken.display()
                )))
            }
        }
    }
}

/// Whether `file` holds one complete JSON document; `None` when it does not exist. The file is
/// read whole and parsed from memory: parsing through a reader took about 100 ms for an L1 state
/// of 1.8 MB, on the path of every start.
fn complete(file: &Path) -> Option<bool> {
    let bytes = std::fs::read(file).ok()?;
    let parsed: Result<serde::de::IgnoredAny, _> = serde_json::from_slice(&bytes);
    Some(parsed.is_ok())
}

/// Copies `from` over `to` through a temporary file and a rename, so `to` is never half-written.
fn replace_with_copy(from: &Path, to: &Path) -> Result<(), String> {
    let tmp = with_suffix(to, "tmp");
    std::fs::copy(from, &tmp).map_err(|e| format!("copy {}: {e}", from.display()))?;
    std::fs::rename(&tmp, to).map_err(|e| format!("replace {}: {e}", to.display()))
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_file_is_copied_and_a_cut_short_one_is_restored_from_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        assert_eq!(check(&file).unwrap(), None, "first start: nothing yet");
        std::fs::write(&file, r#"{"block":{"number":"0x5"},"accounts":{}}"#).unwrap();
        assert_eq!(check(&file).unwrap(), None);
        let copy = dir.path().join("state.json.last-start");
        assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&file).unwrap());
        // Killed during a save: the file holds the first bytes of a newer state.
        std::fs::write(&file, r#"{"block":{"number":"0x9"},"acc"#).unwrap();
        let note = check(&file).unwrap().unwrap();
        assert!(
            note.contains("cut short") && note.contains("restored"),
            "{note}"
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            r#"{"block":{"number":"0x5"},"accounts":{}}"#
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("state.json.broken")).unwrap(),
            r#"{"block":{"number":"0x9"},"acc"#
        );
        // An empty file (killed right after the truncation) and no copy: set aside, no state.
        std::fs::remove_file(&copy).unwrap();
        std::fs::write(&file, "").unwrap();
        let note = check(&file).unwrap().unwrap();
        assert!(note.contains("no earlier copy"), "{note}");
        assert!(!file.exists());
    }
}
