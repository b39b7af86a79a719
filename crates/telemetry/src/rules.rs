//! The alert rules of a devnet and the `promtool test rules` unit tests that pin them.
//!
//! Thresholds come from [`Thresholds`] and each chain's block time: a chain stalls after
//! `head_stalled_blocks` block times without a new block; a chain with block time 0 (a block per
//! transaction) is idle when nobody sends transactions, so it gets no `HeadStalled` rule. A devnet
//! with the lite bridge also gets `DepositsStalled` and `OutputsStalled` over the relayer's
//! metrics, shaped by its confirmations and proposal interval. A full-profile devnet gets, per L2,
//! `SafeHeadStalled` over op-node's heads and `BatcherNotSubmitting` over op-batcher's sends,
//! with windows of so many of the L1's block times (batches are posted and derived at the L1's
//! pace). Every
//! alert carries `severity` and `devnet` labels, keeps the `chain`/`chain_id`, `service`, `job` or
//! `path` label of its series, and has `summary`, `description` and `runbook_url` annotations.
//! Annotation templates use only `$labels`, so [`rule_tests_yml`] can state the exact expected text.

use std::{collections::BTreeMap, fmt, time::Duration};

use serde::Serialize;
use serde_json::json;

use crate::{
    config::{MonitoringConfig, Program, RollupTarget, prom_duration},
    metrics,
};

/// The alerts opdev defines. Each has a runbook at `docs/runbooks/<name>.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alert {
    /// A chain's JSON-RPC does not answer the exporter.
    RpcDown,
    /// A chain produces no new block.
    HeadStalled,
    /// The indexer is behind a chain's head.
    IndexerLagging,
    /// The devnet folder's filesystem is nearly full.
    DiskFillingUp,
    /// The supervisor restarted a service recently.
    ServiceRestarting,
    /// Prometheus cannot scrape one of opdev's services (the exporter included).
    TargetDown,
    /// The relayer has stopped reading an L2's deposits from the L1.
    DepositsStalled,
    /// The relayer has proposed no output of an L2 for several proposal intervals although the
    /// L2 has new blocks.
    OutputsStalled,
    /// op-node has not advanced an L2's safe head although its unsafe head is ahead (full
    /// profile): batches do not reach the L1 or are not derived back.
    SafeHeadStalled,
    /// An L2's op-batcher has sent no batch transaction although the L2 has blocks to batch (full
    /// profile).
    BatcherNotSubmitting,
}

impl Alert {
    /// Every alert.
    pub const ALL: [Alert; 10] = [
        Alert::RpcDown,
        Alert::HeadStalled,
        Alert::IndexerLagging,
        Alert::DiskFillingUp,
        Alert::ServiceRestarting,
        Alert::TargetDown,
        Alert::DepositsStalled,
        Alert::OutputsStalled,
        Alert::SafeHeadStalled,
        Alert::BatcherNotSubmitting,
    ];

    /// The `alertname`.
    pub fn name(self) -> &'static str {
        match self {
            Alert::RpcDown => "RpcDown",
            Alert::HeadStalled => "HeadStalled",
            Alert::IndexerLagging => "IndexerLagging",
            Alert::DiskFillingUp => "DiskFillingUp",
            Alert::ServiceRestarting => "ServiceRestarting",
            Alert::TargetDown => "TargetDown",
            Alert::DepositsStalled => "DepositsStalled",
            Alert::OutputsStalled => "OutputsStalled",
            Alert::SafeHeadStalled => "SafeHeadStalled",
            Alert::BatcherNotSubmitting => "BatcherNotSubmitting",
        }
    }

    /// `severity` label.
    pub fn severity(self) -> &'static str {
        match self {
            Alert::RpcDown | Alert::HeadStalled => "critical",
            _ => "warning",
        }
    }

    /// Its runbook under `base`.
    pub fn runbook_url(self, base: &str) -> String {
        format!("{}/{}.md", base.trim_end_matches('/'), self.name())
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One alerting rule as Prometheus reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Alert name.
    pub alert: String,
    /// PromQL expression; every series it returns is an alert.
    pub expr: String,
    /// How long the expression must hold before the alert fires.
    #[serde(rename = "for")]
    pub for_: String,
    /// Labels added to the alert.
    pub labels: BTreeMap<String, String>,
    /// Annotations (templates over `$labels`).
    pub annotations: BTreeMap<String, String>,
}

/// A rule group.
#[derive(Debug, Clone, Serialize)]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// Its rules.
    pub rules: Vec<Rule>,
}

/// A rules file.
#[derive(Debug, Clone, Serialize)]
pub struct RuleFile {
    /// Its groups.
    pub groups: Vec<RuleGroup>,
}

/// `HeadStalled`'s threshold for a chain, in seconds: `head_stalled_blocks` block times; `None`
/// for a chain that mines per transaction.
pub fn head_stalled_after(cfg: &MonitoringConfig, block_time: u64) -> Option<u64> {
    (block_time > 0).then(|| block_time * cfg.thresholds.head_stalled_blocks)
}

fn human_bytes(b: u64) -> String {
    if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
        format!("{} GiB", b >> 30)
    } else if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
        format!("{} MiB", b >> 20)
    } else {
        format!("{b} bytes")
    }
}

fn human_duration(d: Duration) -> String {
    prom_duration(d)
}

/// `DepositsStalled`'s threshold: the relayer's confirmations plus `deposit_lag_blocks`.
pub fn deposit_lag_threshold(cfg: &MonitoringConfig) -> Option<u64> {
    let relayer = cfg.relayer.as_ref()?;
    Some(relayer.deposit_confirmations + cfg.thresholds.deposit_lag_blocks)
}

/// `OutputsStalled`'s window: `outputs_stalled_intervals` proposal intervals.
pub fn outputs_stalled_window(cfg: &MonitoringConfig) -> Option<Duration> {
    let relayer = cfg.relayer.as_ref()?;
    Some(Duration::from_secs(
        relayer.proposal_interval.max(1) * cfg.thresholds.outputs_stalled_intervals.max(1),
    ))
}

/// `SafeHeadStalled`'s window for an L2: `safe_head_stalled_blocks` of its L1's block times.
pub fn safe_head_stalled_window(cfg: &MonitoringConfig, l2: &RollupTarget) -> Duration {
    Duration::from_secs(l2.l1_block_time.max(1) * cfg.thresholds.safe_head_stalled_blocks.max(1))
}

/// `BatcherNotSubmitting`'s window for an L2: `batcher_idle_blocks` of its L1's block times.
pub fn batcher_idle_window(cfg: &MonitoringConfig, l2: &RollupTarget) -> Duration {
    Duration::from_secs(l2.l1_block_time.max(1) * cfg.thresholds.batcher_idle_blocks.max(1))
}

/// op-node's L2 head of `kind` (`l2_unsafe`, `l2_safe`, `l2_finalized`) for the L2 `chain`.
fn l2_head(chain: &str, kind: &str) -> String {
    format!(
        "{}{{chain=\"{chain}\",layer=\"l2\",type=\"{kind}\"}}",
        metrics::OP_NODE_REFS
    )
}

/// True while op-node's unsafe head of `chain` is ahead of its safe head: the L2 has blocks that
/// still have to be batched and derived back (0 once a stopped sequencer's blocks are all safe).
fn unsafe_ahead(chain: &str) -> String {
    format!(
        "({} - ignoring(type) {}) > 0",
        l2_head(chain, "l2_unsafe"),
        l2_head(chain, "l2_safe")
    )
}

/// The rules of a devnet.
pub fn alert_rules(cfg: &MonitoringConfig) -> RuleFile {
    let t = &cfg.thresholds;
    let rule =
        |alert: Alert, expr: String, for_: Duration, summary: String, description: String| {
            let labels = BTreeMap::from([
                ("severity".to_owned(), alert.severity().to_owned()),
                ("devnet".to_owned(), cfg.devnet.clone()),
            ]);
            let annotations = BTreeMap::from([
                ("summary".to_owned(), summary),
                ("description".to_owned(), description),
                (
                    "runbook_url".to_owned(),
                    alert.runbook_url(&cfg.runbook_base),
                ),
            ]);
            Rule {
                alert: alert.name().into(),
                expr,
                for_: prom_duration(for_),
                labels,
                annotations,
            }
        };

    let mut chains = vec![rule(
        Alert::RpcDown,
        format!("{} == 0", metrics::CHAIN_UP),
        t.rpc_down_for,
        "RPC of {{ $labels.chain }} is down".into(),
        format!(
            "The exporter has not reached the JSON-RPC endpoint of chain {{{{ $labels.chain }}}} \
             (chain id {{{{ $labels.chain_id }}}}) for {}.",
            human_duration(t.rpc_down_for)
        ),
    )];
    for chain in &cfg.chains {
        let Some(after) = head_stalled_after(cfg, chain.block_time) else {
            continue;
        };
        // One rule per chain; its `chain` label (equal to the series') keeps the rules distinct.
        let mut stalled = rule(
            Alert::HeadStalled,
            format!(
                "{}{{chain=\"{}\"}} > {after}",
                metrics::CHAIN_HEAD_UNCHANGED,
                chain.name
            ),
            t.head_stalled_for,
            "{{ $labels.chain }} makes no new blocks".into(),
            format!(
                "Chain {{{{ $labels.chain }}}} (chain id {{{{ $labels.chain_id }}}}, block time {} s) \
                 has produced no new block for more than {after} s ({} block times).",
                chain.block_time, t.head_stalled_blocks
            ),
        );
        stalled.labels.insert("chain".into(), chain.name.clone());
        chains.push(stalled);
    }

    let services = vec![
        rule(
            Alert::IndexerLagging,
            // The chain's head as the exporter sees it, minus the last head the indexer
            // reported in the last 15 minutes: a stopped or hung indexer lags too.
            format!(
                "(max by (chain) ({}) - max by (chain) (last_over_time({}[15m]))) > {}",
                metrics::CHAIN_HEAD_BLOCK,
                metrics::INDEXER_INDEXED_HEAD,
                t.indexer_lag_blocks
            ),
            t.indexer_lag_for,
            "Indexer lags behind {{ $labels.chain }}".into(),
            format!(
                "The indexer has been more than {} blocks behind the head of chain \
                 {{{{ $labels.chain }}}} for {}.",
                t.indexer_lag_blocks,
                human_duration(t.indexer_lag_for)
            ),
        ),
        rule(
            Alert::ServiceRestarting,
            format!(
                "increase({}[{}]) > 0",
                metrics::SERVICE_RESTARTS,
                prom_duration(t.restart_window)
            ),
            t.restart_for,
            "{{ $labels.service }} is restarting".into(),
            format!(
                "The supervisor restarted {{{{ $labels.service }}}} in the last {}.",
                human_duration(t.restart_window)
            ),
        ),
        rule(
            Alert::TargetDown,
            format!("{} == 0", metrics::UP),
            t.target_down_for,
            "{{ $labels.job }} cannot be scraped".into(),
            format!(
                "Prometheus has failed to scrape {{{{ $labels.job }}}} at {{{{ $labels.instance }}}} \
                 for {}.",
                human_duration(t.target_down_for)
            ),
        ),
        rule(
            Alert::DiskFillingUp,
            format!(
                "{free} / {total} < {ratio} or {free} < {bytes}",
                free = metrics::DISK_FREE,
                total = metrics::DISK_TOTAL,
                ratio = t.disk_free_ratio,
                bytes = t.disk_free_bytes
            ),
            t.disk_for,
            "Disk of the devnet folder is filling up".into(),
            format!(
                "The filesystem holding {{{{ $labels.path }}}} has had less than {}% or less than {} \
                 free for {}.",
                t.disk_free_ratio * 100.0,
                human_bytes(t.disk_free_bytes),
                human_duration(t.disk_for)
            ),
        ),
    ];

    let mut groups = vec![
        RuleGroup {
            name: "opdev-chains".into(),
            rules: chains,
        },
        RuleGroup {
            name: "opdev-services".into(),
            rules: services,
        },
    ];
    if let (Some(relayer), Some(lag), Some(window)) = (
        &cfg.relayer,
        deposit_lag_threshold(cfg),
        outputs_stalled_window(cfg),
    ) {
        groups.push(RuleGroup {
            name: "opdev-bridge".into(),
            rules: vec![
                rule(
                    Alert::DepositsStalled,
                    // The relayer's own reading of the L1 head minus its checkpoint, taken apart
                    // from its relay step, so a relay stuck on its L2 shows a growing lag.
                    format!("{} > {lag}", metrics::RELAYER_DEPOSIT_LAG),
                    t.deposit_lag_for,
                    "Deposits to {{ $labels.chain }} are stalled".into(),
                    format!(
                        "The relayer has been more than {lag} L1 blocks ({} confirmations + {}) \
                         behind the L1 head in relaying the deposits of {{{{ $labels.chain }}}} \
                         (chain id {{{{ $labels.chain_id }}}}) for {}.",
                        relayer.deposit_confirmations,
                        t.deposit_lag_blocks,
                        human_duration(t.deposit_lag_for)
                    ),
                ),
                rule(
                    Alert::OutputsStalled,
                    // No proposal in the window while the proposer's last look found blocks
                    // past its last proposal: an idle L2 (block time 0) needs no proposals.
                    format!(
                        "increase({}[{w}]) == 0 and {} > 0",
                        metrics::RELAYER_OUTPUTS_PROPOSED,
                        metrics::RELAYER_PROPOSER_LAG,
                        w = prom_duration(window)
                    ),
                    t.outputs_stalled_for,
                    "No outputs proposed for {{ $labels.chain }}".into(),
                    format!(
                        "The relayer has proposed no output of {{{{ $labels.chain }}}} (chain id \
                         {{{{ $labels.chain_id }}}}) for {} ({} proposal intervals of {} s) \
                         although the L2 has new blocks; withdrawals cannot be proven past its \
                         last proposal.",
                        human_duration(window),
                        t.outputs_stalled_intervals.max(1),
                        relayer.proposal_interval.max(1)
                    ),
                ),
            ],
        });
    }
    let mut rollup = Vec::new();
    for l2 in &cfg.rollups {
        let chain = l2.chain.as_str();
        let per_l2 = |mut rule: Rule| {
            // One rule per L2, like HeadStalled; the `chain` label keeps them distinct.
            rule.labels.insert("chain".into(), chain.to_owned());
            rule
        };
        // Both rules read op-node's heads: an L2 without it has neither.
        if l2.program(Program::OpNode).is_none() {
            continue;
        }
        let window = safe_head_stalled_window(cfg, l2);
        let w = prom_duration(window);
        let safe = l2_head(chain, "l2_safe");
        rollup.push(per_l2(rule(
            Alert::SafeHeadStalled,
            // No new safe head in the window while the unsafe head is ahead, on an op-node
            // scraped for at least the window (a node just started has not derived yet).
            format!(
                "changes({safe}[{w}]) == 0 and ignoring(type) {} and {safe} offset {w}",
                unsafe_ahead(chain)
            ),
            t.safe_head_stalled_for,
            "Safe head of {{ $labels.chain }} is not advancing".into(),
            format!(
                "op-node ({{{{ $labels.service }}}}) has not advanced the safe head of \
                 {{{{ $labels.chain }}}} (chain id {{{{ $labels.chain_id }}}}) for {} ({} L1 block \
                 times of {} s) although its unsafe head is ahead: batches do not reach the L1 or \
                 are not derived back from it.",
                human_duration(window),
                t.safe_head_stalled_blocks.max(1),
                l2.l1_block_time.max(1)
            ),
        )));
        if l2.program(Program::OpBatcher).is_none() {
            continue;
        }
        let window = batcher_idle_window(cfg, l2);
        let w = prom_duration(window);
        let published = format!("{}{{chain=\"{chain}\"}}", metrics::OP_BATCHER_PUBLISHED);
        rollup.push(per_l2(rule(
            Alert::BatcherNotSubmitting,
            // Nothing sent in the window while op-node has blocks that are not safe yet, by a
            // batcher scraped for at least the window (its counter starts at 0).
            format!(
                "increase({published}[{w}]) == 0 and on(chain) {} and {published} offset {w}",
                unsafe_ahead(chain)
            ),
            t.batcher_idle_for,
            "Batcher of {{ $labels.chain }} sends no batches".into(),
            format!(
                "op-batcher ({{{{ $labels.service }}}}) has sent no batch transaction of \
                 {{{{ $labels.chain }}}} (chain id {{{{ $labels.chain_id }}}}) to the L1 for {} \
                 ({} L1 block times of {} s) although the L2 has blocks that are not safe yet.",
                human_duration(window),
                t.batcher_idle_blocks.max(1),
                l2.l1_block_time.max(1)
            ),
        )));
    }
    if !rollup.is_empty() {
        groups.push(RuleGroup {
            name: "opdev-rollup".into(),
            rules: rollup,
        });
    }
    RuleFile { groups }
}

/// The rules file text (a JSON document, which is YAML).
pub fn alert_rules_yml(cfg: &MonitoringConfig) -> String {
    let body = serde_json::to_string_pretty(&alert_rules(cfg)).unwrap_or_else(|_| "{}".into());
    format!(
        "# Alert rules of devnet '{}', generated by opdev (JSON is YAML). Changes are overwritten.\n{body}\n",
        cfg.devnet
    )
}

/// Replaces `{{ $labels.NAME }}` in an annotation template, as Prometheus renders it.
fn render(template: &str, labels: &BTreeMap<&str, &str>) -> String {
    let mut out = template.to_owned();
    for (k, v) in labels {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    out
}

/// Builds `promtool test rules` test groups.
struct TestBuilder {
    rules: RuleFile,
    step: Duration,
    tests: Vec<serde_json::Value>,
}

impl TestBuilder {
    fn rule(&self, alert: Alert, chain: Option<&str>) -> &Rule {
        self.rules
            .groups
            .iter()
            .flat_map(|g| &g.rules)
            .find(|r| {
                r.alert == alert.name()
                    && chain.is_none_or(|c| r.expr.contains(&format!("chain=\"{c}\"")))
            })
            .expect("a rule for every tested alert")
    }

    /// The alert as Prometheus would send it for a series with `labels`.
    fn expected(
        &self,
        alert: Alert,
        chain: Option<&str>,
        labels: &[(&str, &str)],
    ) -> serde_json::Value {
        let rule = self.rule(alert, chain);
        let series: BTreeMap<&str, &str> = labels.iter().copied().collect();
        let mut exp_labels: BTreeMap<String, String> = rule.labels.clone();
        exp_labels.extend(
            series
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let exp_annotations: BTreeMap<String, String> = rule
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), render(v, &series)))
            .collect();
        json!({ "exp_labels": exp_labels, "exp_annotations": exp_annotations })
    }

    /// Eval time at which an alert whose expression holds from time 0 with `for_` has fired.
    fn fired_at(&self, for_: Duration) -> Duration {
        let steps = for_.as_millis().div_ceil(self.step.as_millis()) as u32;
        self.step * (steps + 1)
    }

    /// Adds a test: `series` (selector, values) and checks at `eval_time` that `alert` has
    /// exactly `firing` (each the labels of one series).
    fn case(
        &mut self,
        name: &str,
        series: &[(String, String)],
        alert: Alert,
        chain: Option<&str>,
        eval_time: Duration,
        firing: &[&[(&str, &str)]],
    ) {
        let exp: Vec<_> = firing
            .iter()
            .map(|l| self.expected(alert, chain, l))
            .collect();
        self.tests.push(json!({
            "name": name,
            "interval": prom_duration(self.step),
            "input_series": series.iter().map(|(s, v)| json!({"series": s, "values": v})).collect::<Vec<_>>(),
            "alert_rule_test": [{
                "eval_time": prom_duration(eval_time),
                "alertname": alert.name(),
                "exp_alerts": exp,
            }],
        }));
    }
}

fn s(series: &str, values: impl Into<String>) -> (String, String) {
    (series.to_owned(), values.into())
}

/// `name{k="v",…}`.
fn selector(name: &str, labels: &[(&str, &str)]) -> String {
    let labels: Vec<_> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

/// `promtool test rules` unit tests for every alert of `cfg`'s rules: each fires when it should,
/// does not fire when it should not, and (where the `for:` allows) waits out its `for:`.
/// `rules_file` is the rules file's path as promtool should open it (relative to the test file).
pub fn rule_tests_yml(cfg: &MonitoringConfig, rules_file: &str) -> String {
    let step = cfg.timing.evaluation_interval.max(Duration::from_secs(1));
    let mut b = TestBuilder {
        rules: alert_rules(cfg),
        step,
        tests: Vec::new(),
    };
    let t = cfg.thresholds.clone();
    let n = |d: Duration| (d.as_millis() / step.as_millis()) as u64 + 4;

    // RpcDown
    let l1 = [("chain", "l1"), ("chain_id", "900")];
    let up = |v: &str| s("opdev_chain_up{chain=\"l1\",chain_id=\"900\"}", v);
    let horizon = n(t.rpc_down_for);
    let at = b.fired_at(t.rpc_down_for);
    b.case(
        "RpcDown fires when the RPC stays unreachable",
        &[up(&format!("0x{horizon}"))],
        Alert::RpcDown,
        None,
        at,
        &[&l1],
    );
    b.case(
        "RpcDown stays quiet while the RPC answers",
        &[up(&format!("1x{horizon}"))],
        Alert::RpcDown,
        None,
        at,
        &[],
    );
    if t.rpc_down_for >= step * 2 {
        b.case(
            "RpcDown waits out its for: clause",
            &[up(&format!("0x{horizon}"))],
            Alert::RpcDown,
            None,
            t.rpc_down_for - step,
            &[],
        );
        let flapping = (0..=horizon)
            .map(|i| if i % 2 == 0 { "0" } else { "1" })
            .collect::<Vec<_>>()
            .join(" ");
        b.case(
            "RpcDown ignores short outages",
            &[up(&flapping)],
            Alert::RpcDown,
            None,
            at,
            &[],
        );
    }

    // HeadStalled: one case per chain with a block time, and silence on mine-per-tx chains.
    for chain in cfg.chains.clone() {
        let id = chain.chain_id.to_string();
        let labels = [("chain", chain.name.as_str()), ("chain_id", id.as_str())];
        let sel = format!(
            "opdev_chain_head_unchanged_seconds{{chain=\"{}\",chain_id=\"{id}\"}}",
            chain.name
        );
        let horizon = n(t.head_stalled_for);
        let at = b.fired_at(t.head_stalled_for);
        match head_stalled_after(cfg, chain.block_time) {
            Some(after) => {
                let over = after + 1;
                b.case(
                    &format!(
                        "HeadStalled fires on {} after {after} s without a block",
                        chain.name
                    ),
                    &[s(&sel, format!("{over}+1x{horizon}"))],
                    Alert::HeadStalled,
                    Some(&chain.name),
                    at,
                    &[&labels],
                );
                b.case(
                    &format!(
                        "HeadStalled stays quiet on {} at exactly {after} s",
                        chain.name
                    ),
                    &[s(&sel, format!("{after}x{horizon}"))],
                    Alert::HeadStalled,
                    Some(&chain.name),
                    at,
                    &[],
                );
                b.case(
                    &format!(
                        "HeadStalled stays quiet on {} while blocks come",
                        chain.name
                    ),
                    &[s(&sel, format!("0x{horizon}"))],
                    Alert::HeadStalled,
                    Some(&chain.name),
                    at,
                    &[],
                );
            }
            None => {
                // No rule for this chain: nothing fires however long the head stays.
                b.tests.push(json!({
                    "name": format!("HeadStalled never fires on {} (a block per transaction)", chain.name),
                    "interval": prom_duration(step),
                    "input_series": [{"series": sel, "values": format!("100000+1x{horizon}")}],
                    "alert_rule_test": [{"eval_time": prom_duration(at), "alertname": "HeadStalled", "exp_alerts": []}],
                }));
            }
        }
    }

    // IndexerLagging
    // The chain's head climbs one block per step; the indexer reports its own head.
    let horizon = n(t.indexer_lag_for);
    let head = || {
        s(
            "opdev_chain_head_block{chain=\"l1\",chain_id=\"900\"}",
            format!("1000+1x{horizon}"),
        )
    };
    let indexed = |v: String| s("opdev_indexer_indexed_head{chain=\"l1\"}", v);
    let at = b.fired_at(t.indexer_lag_for);
    let over = t.indexer_lag_blocks + 1;
    b.case(
        "IndexerLagging fires when the lag stays over the threshold",
        &[head(), indexed(format!("{}+1x{horizon}", 1000 - over))],
        Alert::IndexerLagging,
        None,
        at,
        &[&[("chain", "l1")]],
    );
    // With one report at 999, the lag passes the threshold after about N+1 steps, then must
    // hold for the `for:`; the chain's head goes on climbing until then.
    let stopped_at = step * (t.indexer_lag_blocks as u32 + 2) + at;
    let steps = stopped_at.as_millis().div_ceil(step.as_millis()) + 1;
    b.case(
        "IndexerLagging fires when the indexer stops reporting while the chain goes on",
        &[
            s(
                "opdev_chain_head_block{chain=\"l1\",chain_id=\"900\"}",
                format!("1000+1x{steps}"),
            ),
            indexed("999".into()),
        ],
        Alert::IndexerLagging,
        None,
        stopped_at,
        &[&[("chain", "l1")]],
    );
    b.case(
        "IndexerLagging stays quiet at the threshold",
        &[
            head(),
            indexed(format!("{}+1x{horizon}", 1000 - t.indexer_lag_blocks)),
        ],
        Alert::IndexerLagging,
        None,
        at,
        &[],
    );
    if t.indexer_lag_for >= step * 2 {
        b.case(
            "IndexerLagging ignores a short lag",
            &[head(), indexed(format!("{} 1001+1x{horizon}", 1000 - over))],
            Alert::IndexerLagging,
            None,
            at,
            &[],
        );
    }

    // DiskFillingUp
    let path = [("path", "/devnet")];
    let disk = |free: u64, total: u64| {
        vec![
            s(
                "opdev_disk_free_bytes{path=\"/devnet\"}",
                format!("{free}x{}", n(t.disk_for)),
            ),
            s(
                "opdev_disk_total_bytes{path=\"/devnet\"}",
                format!("{total}x{}", n(t.disk_for)),
            ),
        ]
    };
    let at = b.fired_at(t.disk_for);
    let big = t.disk_free_bytes.saturating_mul(1000);
    let low_ratio = ((big as f64) * t.disk_free_ratio / 2.0) as u64;
    b.case(
        "DiskFillingUp fires under the free ratio",
        &disk(low_ratio, big),
        Alert::DiskFillingUp,
        None,
        at,
        &[&path],
    );
    let small_total = t.disk_free_bytes.saturating_mul(2).max(1);
    let small_free =
        (t.disk_free_bytes / 2).max(((small_total as f64) * t.disk_free_ratio) as u64 + 1);
    b.case(
        "DiskFillingUp fires under the free bytes",
        &disk(
            small_free.min(t.disk_free_bytes.saturating_sub(1)),
            small_total,
        ),
        Alert::DiskFillingUp,
        None,
        at,
        &[&path],
    );
    b.case(
        "DiskFillingUp stays quiet with room to spare",
        &disk(big / 2, big),
        Alert::DiskFillingUp,
        None,
        at,
        &[],
    );

    // ServiceRestarting
    let restarts = |v: String| s("opdev_service_restarts_total{service=\"l2-1\"}", v);
    let window_steps = (t.restart_window.as_millis() / step.as_millis()) as u64;
    let horizon = window_steps + n(t.restart_for) + 4;
    let at = b.fired_at(t.restart_for) + step * 2;
    let svc = [("service", "l2-1")];
    b.case(
        "ServiceRestarting fires when the restart counter rises",
        &[restarts(format!("0 0 1x{horizon}"))],
        Alert::ServiceRestarting,
        None,
        at,
        &[&svc],
    );
    b.case(
        "ServiceRestarting stays quiet while the counter holds",
        &[restarts(format!("3x{horizon}"))],
        Alert::ServiceRestarting,
        None,
        at,
        &[],
    );
    let after_window = step * 2 + t.restart_window + step * 2;
    b.case(
        "ServiceRestarting resolves once the window has passed",
        &[restarts(format!("0 0 1x{horizon}"))],
        Alert::ServiceRestarting,
        None,
        after_window,
        &[],
    );

    // TargetDown
    let target = [("job", "opdev-indexer"), ("instance", "127.0.0.1:9101")];
    let up_t = |v: String| s("up{job=\"opdev-indexer\",instance=\"127.0.0.1:9101\"}", v);
    let horizon = n(t.target_down_for);
    let at = b.fired_at(t.target_down_for);
    b.case(
        "TargetDown fires when scrapes keep failing",
        &[up_t(format!("0x{horizon}"))],
        Alert::TargetDown,
        None,
        at,
        &[&target],
    );
    b.case(
        "TargetDown stays quiet while scrapes succeed",
        &[up_t(format!("1x{horizon}"))],
        Alert::TargetDown,
        None,
        at,
        &[],
    );

    // DepositsStalled and OutputsStalled, when the devnet has a bridge.
    if let (Some(lag), Some(window)) = (deposit_lag_threshold(cfg), outputs_stalled_window(cfg)) {
        let labels = [
            ("chain", "l2-1"),
            ("chain_id", "901"),
            ("instance", "127.0.0.1:4004"),
            ("job", "opdev-relayer"),
        ];
        let sel = |name: &str| {
            format!(
                "{name}{{chain=\"l2-1\",chain_id=\"901\",instance=\"127.0.0.1:4004\",job=\"opdev-relayer\"}}"
            )
        };
        let deposit_lag = |v: String| s(&sel(metrics::RELAYER_DEPOSIT_LAG), v);
        let horizon = n(t.deposit_lag_for);
        let at = b.fired_at(t.deposit_lag_for);
        b.case(
            "DepositsStalled fires when the relay lag stays over the threshold",
            &[deposit_lag(format!("{}x{horizon}", lag + 1))],
            Alert::DepositsStalled,
            None,
            at,
            &[&labels],
        );
        b.case(
            "DepositsStalled stays quiet at the threshold",
            &[deposit_lag(format!("{lag}x{horizon}"))],
            Alert::DepositsStalled,
            None,
            at,
            &[],
        );
        b.case(
            "DepositsStalled fires when the lag grows with every L1 block",
            &[deposit_lag(format!("0+1x{}", horizon + lag + 2))],
            Alert::DepositsStalled,
            None,
            step * (lag as u32 + 1) + at,
            &[&labels],
        );
        if t.deposit_lag_for >= step * 2 {
            b.case(
                "DepositsStalled waits out its for: clause",
                &[deposit_lag(format!("{}x{horizon}", lag + 1))],
                Alert::DepositsStalled,
                None,
                t.deposit_lag_for - step,
                &[],
            );
            b.case(
                "DepositsStalled ignores a short lag",
                &[deposit_lag(format!("{} 0x{horizon}", lag + 1))],
                Alert::DepositsStalled,
                None,
                at,
                &[],
            );
        }

        // Proposals come every step until step 10, then stop.
        let proposed = |v: String| s(&sel(metrics::RELAYER_OUTPUTS_PROPOSED), v);
        let proposer_lag = |v: String| s(&sel(metrics::RELAYER_PROPOSER_LAG), v);
        let stop = step * 10;
        let fires_at = stop + window + b.fired_at(t.outputs_stalled_for) + step;
        let total = fires_at.as_millis().div_ceil(step.as_millis()) as u64 + 4;
        let stopping = || proposed(format!("0+1x10 10x{total}"));
        b.case(
            "OutputsStalled fires when proposals stop while the L2 has new blocks",
            &[stopping(), proposer_lag(format!("0x10 1+1x{total}"))],
            Alert::OutputsStalled,
            None,
            fires_at,
            &[&labels],
        );
        b.case(
            "OutputsStalled waits for its window",
            &[stopping(), proposer_lag(format!("0x10 1+1x{total}"))],
            Alert::OutputsStalled,
            None,
            (stop + window).saturating_sub(step * 2),
            &[],
        );
        b.case(
            "OutputsStalled stays quiet while the L2 has no new blocks",
            &[stopping(), proposer_lag(format!("0x{}", total + 10))],
            Alert::OutputsStalled,
            None,
            fires_at,
            &[],
        );
        b.case(
            "OutputsStalled stays quiet while proposals come",
            &[
                proposed(format!("0+1x{}", total + 10)),
                proposer_lag(format!("2x{}", total + 10)),
            ],
            Alert::OutputsStalled,
            None,
            fires_at,
            &[],
        );
    }

    // SafeHeadStalled and BatcherNotSubmitting, per L2 of a full-profile devnet. The safe head
    // (and the batcher's sends) advance every step until step 10, then stop.
    for l2 in cfg.rollups.clone() {
        let Some(node) = l2.program(Program::OpNode) else {
            continue;
        };
        let chain = l2.chain.as_str();
        let id = l2.chain_id.to_string();
        let head = |kind: &'static str| -> Vec<(&str, &str)> {
            vec![
                ("chain", chain),
                ("chain_id", id.as_str()),
                ("instance", node.address.as_str()),
                ("job", Program::OpNode.job()),
                ("layer", "l2"),
                ("service", node.service.as_str()),
                ("type", kind),
            ]
        };
        let unsafe_head = |v: String| s(&selector(metrics::OP_NODE_REFS, &head("l2_unsafe")), v);
        let safe_head = |v: String| s(&selector(metrics::OP_NODE_REFS, &head("l2_safe")), v);
        let safe_labels = head("l2_safe");
        let stop = step * 10;

        let window = safe_head_stalled_window(cfg, &l2);
        let for_ = t.safe_head_stalled_for;
        let fires_at = stop + window + b.fired_at(for_) + step;
        let total = fires_at.as_millis().div_ceil(step.as_millis()) as u64 + 4;
        let stopping = || safe_head(format!("0+1x10 10x{total}"));
        let growing = || unsafe_head(format!("2+1x{}", total + 10));
        let alert = Alert::SafeHeadStalled;
        b.case(
            &format!("SafeHeadStalled fires on {chain} when the safe head stops and the unsafe head goes on"),
            &[stopping(), growing()],
            alert,
            Some(chain),
            fires_at,
            &[&safe_labels],
        );
        b.case(
            &format!("SafeHeadStalled waits for its window on {chain}"),
            &[stopping(), growing()],
            alert,
            Some(chain),
            (stop + window).saturating_sub(step * 2),
            &[],
        );
        b.case(
            &format!("SafeHeadStalled stays quiet on {chain} when the sequencer stops too and every block is safe"),
            &[stopping(), unsafe_head(format!("2+1x8 10x{total}"))],
            alert,
            Some(chain),
            fires_at,
            &[],
        );
        b.case(
            &format!("SafeHeadStalled stays quiet on {chain} while the safe head advances"),
            &[safe_head(format!("0+1x{}", total + 10)), growing()],
            alert,
            Some(chain),
            fires_at,
            &[],
        );
        let never = || safe_head(format!("0x{total}"));
        b.case(
            &format!(
                "SafeHeadStalled waits until op-node of {chain} has been scraped for its window"
            ),
            &[never(), growing()],
            alert,
            Some(chain),
            window.saturating_sub(step),
            &[],
        );
        b.case(
            &format!("SafeHeadStalled fires on {chain} when the safe head never advances"),
            &[never(), growing()],
            alert,
            Some(chain),
            window + b.fired_at(for_),
            &[&safe_labels],
        );
        if for_ >= step * 2 {
            b.case(
                &format!("SafeHeadStalled waits out its for: clause on {chain}"),
                &[never(), growing()],
                alert,
                Some(chain),
                window + for_ - step,
                &[],
            );
        }

        let Some(batcher) = l2.program(Program::OpBatcher) else {
            continue;
        };
        let batcher_labels = [
            ("chain", chain),
            ("chain_id", id.as_str()),
            ("instance", batcher.address.as_str()),
            ("job", Program::OpBatcher.job()),
            ("service", batcher.service.as_str()),
        ];
        let published = |v: String| s(&selector(metrics::OP_BATCHER_PUBLISHED, &batcher_labels), v);
        let window = batcher_idle_window(cfg, &l2);
        let for_ = t.batcher_idle_for;
        let fires_at = stop + window + b.fired_at(for_) + step;
        let total = fires_at.as_millis().div_ceil(step.as_millis()) as u64 + 4;
        let stopping = || published(format!("0+1x10 10x{total}"));
        let safe = || safe_head(format!("0+1x10 10x{total}"));
        let growing = || unsafe_head(format!("2+1x{}", total + 10));
        let alert = Alert::BatcherNotSubmitting;
        b.case(
            &format!("BatcherNotSubmitting fires on {chain} when sends stop while the L2 has blocks to batch"),
            &[stopping(), safe(), growing()],
            alert,
            Some(chain),
            fires_at,
            &[&batcher_labels],
        );
        b.case(
            &format!("BatcherNotSubmitting waits for its window on {chain}"),
            &[stopping(), safe(), growing()],
            alert,
            Some(chain),
            (stop + window).saturating_sub(step * 2),
            &[],
        );
        b.case(
            &format!("BatcherNotSubmitting stays quiet on {chain} when every block is safe (sequencer stopped)"),
            &[stopping(), safe(), unsafe_head(format!("2+1x8 10x{total}"))],
            alert,
            Some(chain),
            fires_at,
            &[],
        );
        b.case(
            &format!("BatcherNotSubmitting stays quiet on {chain} while batches are sent"),
            &[published(format!("0+1x{}", total + 10)), safe(), growing()],
            alert,
            Some(chain),
            fires_at,
            &[],
        );
        let silent = || published(format!("0x{total}"));
        let unsafe_only = || safe_head(format!("0x{total}"));
        b.case(
            &format!("BatcherNotSubmitting waits until op-batcher of {chain} has been scraped for its window"),
            &[silent(), unsafe_only(), growing()],
            alert,
            Some(chain),
            window.saturating_sub(step),
            &[],
        );
        b.case(
            &format!("BatcherNotSubmitting fires on {chain} when the batcher never sends"),
            &[silent(), unsafe_only(), growing()],
            alert,
            Some(chain),
            window + b.fired_at(for_),
            &[&batcher_labels],
        );
        if for_ >= step * 2 {
            b.case(
                &format!("BatcherNotSubmitting waits out its for: clause on {chain}"),
                &[silent(), unsafe_only(), growing()],
                alert,
                Some(chain),
                window + for_ - step,
                &[],
            );
        }
    }

    let doc = json!({
        "rule_files": [rules_file],
        "evaluation_interval": prom_duration(step),
        "tests": b.tests,
    });
    let body = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    format!(
        "# promtool test rules for devnet '{}', generated by opdev.\n{body}\n",
        cfg.devnet
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MonitoringConfig {
        MonitoringConfig::new("dev", "127.0.0.1:9100", "127.0.0.1:9093")
            .with_chain("l1", 900, 12)
            .with_chain("l2-1", 901, 2)
            .with_chain("l2-2", 902, 0)
            .with_relayer("127.0.0.1:4004", 2, 4)
            .with_rollup(rollup("l2-1", 901, 12))
    }

    fn rollup(chain: &str, chain_id: u64, l1_block_time: u64) -> RollupTarget {
        RollupTarget::new(chain, chain_id, l1_block_time)
            .with_program(Program::OpGeth, chain, "127.0.0.1:7301")
            .with_program(Program::OpNode, format!("{chain}-node"), "127.0.0.1:7303")
            .with_program(
                Program::OpBatcher,
                format!("{chain}-batcher"),
                "127.0.0.1:7305",
            )
            .with_program(
                Program::OpProposer,
                format!("{chain}-proposer"),
                "127.0.0.1:7307",
            )
    }

    fn rollup_rules(cfg: &MonitoringConfig) -> Vec<(String, String, String, String)> {
        alert_rules(cfg)
            .groups
            .iter()
            .filter(|g| g.name == "opdev-rollup")
            .flat_map(|g| &g.rules)
            .map(|r| {
                (
                    r.alert.clone(),
                    r.labels["chain"].clone(),
                    r.expr.clone(),
                    r.for_.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn rollup_rules_count_l1_block_times_and_exist_only_with_full_profile_l2s() {
        let mut full = MonitoringConfig::new("dev", "127.0.0.1:9100", "127.0.0.1:9093")
            .with_chain("l1", 900, 1)
            .with_rollup(rollup("l2-1", 901, 1))
            .with_rollup(rollup("l2-2", 902, 1));
        let ahead = |c: &str| {
            format!(
                "(op_node_default_refs_number{{chain=\"{c}\",layer=\"l2\",type=\"l2_unsafe\"}} - ignoring(type) \
                 op_node_default_refs_number{{chain=\"{c}\",layer=\"l2\",type=\"l2_safe\"}}) > 0"
            )
        };
        let safe = "op_node_default_refs_number{chain=\"l2-1\",layer=\"l2\",type=\"l2_safe\"}";
        let sent = "op_batcher_default_txmgr_publish_total{chain=\"l2-1\"}";
        let rules = rollup_rules(&full);
        assert_eq!(rules.len(), 4, "two rules per L2");
        assert_eq!(
            rules[0],
            (
                "SafeHeadStalled".into(),
                "l2-1".into(),
                format!(
                    "changes({safe}[10s]) == 0 and ignoring(type) {} and {safe} offset 10s",
                    ahead("l2-1")
                ),
                "0s".into()
            )
        );
        assert_eq!(
            rules[1],
            (
                "BatcherNotSubmitting".into(),
                "l2-1".into(),
                format!(
                    "increase({sent}[10s]) == 0 and on(chain) {} and {sent} offset 10s",
                    ahead("l2-1")
                ),
                "0s".into()
            )
        );
        assert_eq!(rules[2].1, "l2-2");

        // A 12-second L1 stretches the windows; thresholds are parameters.
        full.rollups[0].l1_block_time = 12;
        full.thresholds.batcher_idle_blocks = 5;
        full.thresholds.safe_head_stalled_for = Duration::from_secs(30);
        let rules = rollup_rules(&full);
        assert!(rules[0].2.contains("[2m]") && rules[0].2.ends_with("offset 2m"));
        assert_eq!(rules[0].3, "30s");
        assert!(rules[1].2.contains("[1m]") && rules[1].2.ends_with("offset 1m"));

        // A lite devnet has none.
        let mut lite = cfg();
        lite.rollups.clear();
        assert!(rollup_rules(&lite).is_empty());
        assert!(
            alert_rules(&lite)
                .groups
                .iter()
                .all(|g| g.name != "opdev-rollup")
        );
    }

    #[test]
    fn bridge_rules_follow_the_relayer_settings_and_exist_only_with_a_bridge() {
        let rules = alert_rules(&cfg());
        let bridge = rules
            .groups
            .iter()
            .find(|g| g.name == "opdev-bridge")
            .unwrap();
        let exprs: Vec<_> = bridge
            .rules
            .iter()
            .map(|r| (r.alert.as_str(), r.expr.as_str(), r.for_.as_str()))
            .collect();
        assert_eq!(
            exprs,
            [
                (
                    "DepositsStalled",
                    "opdev_relayer_deposit_lag_blocks > 7",
                    "1m"
                ),
                (
                    "OutputsStalled",
                    "increase(opdev_relayer_outputs_proposed_total[20s]) == 0 and opdev_relayer_proposer_lag_blocks > 0",
                    "0s"
                ),
            ]
        );
        let mut no_bridge = cfg();
        no_bridge.relayer = None;
        assert!(
            alert_rules(&no_bridge)
                .groups
                .iter()
                .all(|g| g.name != "opdev-bridge")
        );
    }

    #[test]
    fn head_stalled_derives_from_block_times_and_skips_mine_per_tx_chains() {
        let rules = alert_rules(&cfg());
        let stalled: Vec<_> = rules.groups[0]
            .rules
            .iter()
            .filter(|r| r.alert == "HeadStalled")
            .map(|r| r.expr.as_str())
            .collect();
        assert_eq!(
            stalled,
            [
                "opdev_chain_head_unchanged_seconds{chain=\"l1\"} > 60",
                "opdev_chain_head_unchanged_seconds{chain=\"l2-1\"} > 10",
            ]
        );
    }

    #[test]
    fn every_alert_has_a_rule_labels_and_annotations() {
        let rules = alert_rules(&cfg());
        for alert in Alert::ALL {
            let rule = rules
                .groups
                .iter()
                .flat_map(|g| &g.rules)
                .find(|r| r.alert == alert.name())
                .unwrap();
            assert_eq!(rule.labels["devnet"], "dev");
            assert_eq!(rule.labels["severity"], alert.severity());
            assert!(
                rule.annotations["runbook_url"].ends_with(&format!("/docs/runbooks/{alert}.md"))
            );
            assert!(!rule.annotations["summary"].is_empty());
        }
    }

    #[test]
    fn thresholds_are_parameters() {
        let mut c = cfg();
        c.thresholds.indexer_lag_blocks = 42;
        c.thresholds.rpc_down_for = Duration::from_secs(3);
        let rules = alert_rules(&c);
        let all: Vec<_> = rules.groups.iter().flat_map(|g| &g.rules).collect();
        let lag = all.iter().find(|r| r.alert == "IndexerLagging").unwrap();
        assert!(lag.expr.ends_with(") > 42"), "{}", lag.expr);
        let down = all.iter().find(|r| r.alert == "RpcDown").unwrap();
        assert_eq!(down.for_, "3s");
        let disk = all.iter().find(|r| r.alert == "DiskFillingUp").unwrap();
        assert_eq!(
            disk.expr,
            "opdev_disk_free_bytes / opdev_disk_total_bytes < 0.1 or opdev_disk_free_bytes < 1073741824"
        );
    }

    #[test]
    fn annotations_render_labels() {
        let labels = BTreeMap::from([("chain", "l1")]);
        assert_eq!(
            render("RPC of {{ $labels.chain }} is down", &labels),
            "RPC of l1 is down"
        );
    }
}
