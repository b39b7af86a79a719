//! Grafana dashboards for a devnet (`dashboards/*.json`, embedded here so the CLI can write them
//! into Grafana's provisioning folder; [`for_devnet`] picks those a devnet has data for) and a
//! small PromQL scanner that lists the metric names an expression queries, used to check every
//! panel against [`crate::metrics`].

use crate::config::MonitoringConfig;

/// The lite bridge's dashboard (the relayer's metrics).
pub const BRIDGE: &str = "opdev-bridge.json";
/// The full profile's dashboard: each L2's heads from op-node, op-batcher's batch transactions,
/// op-proposer's proposals.
pub const ROLLUP: &str = "opdev-rollup.json";

/// Every dashboard: file name and JSON text.
pub const DASHBOARDS: &[(&str, &str)] = &[
    (
        "opdev-chains.json",
        include_str!("../dashboards/opdev-chains.json"),
    ),
    (
        "opdev-indexer.json",
        include_str!("../dashboards/opdev-indexer.json"),
    ),
    (
        "opdev-faucet.json",
        include_str!("../dashboards/opdev-faucet.json"),
    ),
    (
        "opdev-services.json",
        include_str!("../dashboards/opdev-services.json"),
    ),
    (BRIDGE, include_str!("../dashboards/opdev-bridge.json")),
    (ROLLUP, include_str!("../dashboards/opdev-rollup.json")),
];

/// The dashboards of a devnet: all of them but [`BRIDGE`] without a relayer and [`ROLLUP`]
/// without full-profile L2s.
pub fn for_devnet(cfg: &MonitoringConfig) -> Vec<(&'static str, &'static str)> {
    DASHBOARDS
        .iter()
        .copied()
        .filter(|(name, _)| match *name {
            BRIDGE => cfg.relayer.is_some(),
            ROLLUP => !cfg.rollups.is_empty(),
            _ => true,
        })
        .collect()
}

const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
    // Aggregations may put `by (...)` between their name and their argument.
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
];

/// Metric names an expression selects: identifiers that are not functions, aggregations,
/// keywords, label names (inside `{}` or a `by(...)`-style list), durations, numbers or strings.
pub fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    // Set when the previous identifier opens a label list: `by (`, `on(`, …
    let mut label_list_next = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while i < chars.len() && chars[i] != close {
                    if chars[i] == '"' {
                        i += 1;
                        while i < chars.len() && chars[i] != '"' {
                            i += 1;
                        }
                    }
                    i += 1;
                }
                i += 1;
            }
            '(' if label_list_next => {
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
                i += 1;
                label_list_next = false;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let lower = word.to_ascii_lowercase();
                if matches!(
                    lower.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                ) {
                    label_list_next = true;
                } else if j < chars.len() && chars[j] == '(' {
                    // A function or aggregation call.
                } else if !KEYWORDS.contains(&lower.as_str()) && !word.starts_with('$') {
                    names.push(word);
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                // Numbers and durations (`5m`, `1e9`, `0x10`).
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            '$' => {
                // Grafana variables: `$__rate_interval`, `${chain}`.
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '{' | '}'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Program, RollupTarget};

    #[test]
    fn a_devnet_gets_the_bridge_or_the_rollup_dashboard_by_its_profile() {
        let names = |cfg: &MonitoringConfig| -> Vec<&str> {
            for_devnet(cfg).into_iter().map(|(n, _)| n).collect()
        };
        let plain = MonitoringConfig::new("d", "127.0.0.1:1", "127.0.0.1:2");
        let lite = plain.clone().with_relayer("127.0.0.1:3", 0, 4);
        let full = plain
            .clone()
            .with_rollup(RollupTarget::new("l2-1", 901, 1).with_program(
                Program::OpNode,
                "l2-1-node",
                "127.0.0.1:4",
            ));
        assert_eq!(names(&plain).len(), DASHBOARDS.len() - 2);
        assert!(names(&lite).contains(&BRIDGE) && !names(&lite).contains(&ROLLUP));
        assert!(names(&full).contains(&ROLLUP) && !names(&full).contains(&BRIDGE));
    }

    #[test]
    fn scanner_finds_metrics_only() {
        assert_eq!(
            metric_names(
                "sum by (chain) (rate(opdev_indexer_blocks_indexed_total{chain=~\"$chain\"}[$__rate_interval]))"
            ),
            ["opdev_indexer_blocks_indexed_total"]
        );
        assert_eq!(
            metric_names("opdev_disk_free_bytes / on(path) opdev_disk_total_bytes > bool 0.1"),
            ["opdev_disk_free_bytes", "opdev_disk_total_bytes"]
        );
        assert_eq!(
            metric_names("1 / rate(opdev_chain_head_block[1m]) or up == 0"),
            ["opdev_chain_head_block", "up"]
        );
        assert_eq!(
            metric_names("increase(opdev_service_restarts_total[5m] offset 1m) > 0"),
            ["opdev_service_restarts_total"]
        );
        assert_eq!(
            metric_names(
                "op_node_default_refs_number{type=\"l2_unsafe\"} - ignoring(type) op_node_default_refs_number{type=\"l2_safe\"}"
            ),
            ["op_node_default_refs_number", "op_node_default_refs_number"]
        );
    }
}
