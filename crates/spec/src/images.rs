//! The one table of default container images for the Docker runtime, each pinned by an exact
//! version (never `latest` or `develop`). `docs/images.md` lists the same table; a test keeps the
//! two in step. opdev's own services have no entry: they always run from an image built from the
//! running opdev binary; nor have the full profile's op-geth, op-node, op-batcher and op-proposer,
//! whose images are built from the programs opdev builds (or is given) on this machine. Any
//! service can be given another image (`--image SERVICE=REF`) or an image built from a host binary
//! (`--binary SERVICE=PATH`).

/// The default image of a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultImage {
    /// The tool (the `tool` of a service's artifact).
    pub tool: &'static str,
    /// Image reference, pinned by version.
    pub image: &'static str,
}

/// Every default image, in the order `docs/images.md` lists them.
pub const DEFAULT_IMAGES: &[DefaultImage] = &[
    DefaultImage {
        tool: "anvil",
        image: "ghcr.io/foundry-rs/foundry:v1.7.1",
    },
    DefaultImage {
        tool: "postgres",
        image: "postgres:15.18-bookworm",
    },
    DefaultImage {
        tool: "prometheus",
        image: "prom/prometheus:v2.42.0",
    },
    DefaultImage {
        tool: "alertmanager",
        image: "prom/alertmanager:v0.25.0",
    },
];

/// The default image of `tool`, if it has one.
pub fn default_image(tool: &str) -> Option<&'static str> {
    DEFAULT_IMAGES
        .iter()
        .find(|d| d.tool == tool)
        .map(|d| d.image)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_default_is_pinned_and_documented() {
        let doc = include_str!("../../../docs/images.md");
        for d in super::DEFAULT_IMAGES {
            let (_, tag) = d.image.rsplit_once(':').expect("a tag");
            assert!(
                tag.chars().any(|c| c.is_ascii_digit()) && tag != "latest",
                "{} is not pinned",
                d.image
            );
            let row = format!("| {} | `{}` |", d.tool, d.image);
            assert!(doc.contains(&row), "docs/images.md lacks the row {row}");
        }
    }

    #[test]
    fn the_op_stack_programs_have_no_default_image() {
        for tool in ["op-geth", "op-node", "op-batcher", "op-proposer", "opdev"] {
            assert_eq!(super::default_image(tool), None, "{tool}");
        }
    }
}
