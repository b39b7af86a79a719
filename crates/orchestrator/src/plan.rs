//! The plan of `up`: a graph of steps over the devnet's services, and the executor that runs
//! every step as soon as the steps it comes after are done, independent ones in parallel. The
//! first failure stops new steps from starting and is returned once the running ones finish.

use std::{collections::BTreeSet, future::Future, time::Duration};

use futures::{StreamExt, stream::FuturesUnordered};
use opdev_spec::{DevnetConfig, ServiceSpec};
use serde::Serialize;
use tokio::time::Instant;

/// One step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Unique id: `resolve`, `tools`, `ports`, `supervisor`, `start:<service>`.
    pub id: String,
    /// What it does, for `--plan`.
    pub what: String,
    /// Steps that must be done first.
    pub after: Vec<String>,
}

/// Everything `up` will do, in dependency order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Devnet name.
    pub devnet: String,
    /// The services, dependencies first.
    pub services: Vec<ServiceSpec>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// Step id of starting `service`.
pub fn start_step(service: &str) -> String {
    format!("start:{service}")
}

impl Plan {
    /// The plan for `config` running `services`.
    pub fn new(config: &DevnetConfig, services: Vec<ServiceSpec>) -> Self {
        let step = |id: &str, what: String, after: &[&str]| Step {
            id: id.into(),
            what,
            after: after.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut steps = vec![
            step(
                "resolve",
                format!(
                    "resolve devnet '{}' (file, OPDEV_* env, flags)",
                    config.name
                ),
                &[],
            ),
            step(
                "tools",
                "find or install the tools the services run".into(),
                &["resolve"],
            ),
            step(
                "ports",
                format!("check ports on 127.0.0.1 ({})", config.ports),
                &["resolve"],
            ),
            step(
                "supervisor",
                "launch the devnet's supervisor".into(),
                &["tools", "ports"],
            ),
        ];
        for spec in &services {
            let mut after = vec!["supervisor".to_owned()];
            after.extend(spec.depends_on.iter().map(|d| start_step(d)));
            let ready: Vec<String> = spec.ready.iter().map(ToString::to_string).collect();
            steps.push(Step {
                id: start_step(&spec.name),
                what: format!(
                    "start {} ({}), ready when: {}",
                    spec.name,
                    spec.artifact.tool,
                    ready.join("; ")
                ),
                after,
            });
        }
        Self {
            devnet: config.name.clone(),
            services,
            steps,
        }
    }

    /// The steps the supervisor executes (starting services).
    pub fn service_steps(&self) -> Vec<Step> {
        let ids: BTreeSet<String> = self.services.iter().map(|s| start_step(&s.name)).collect();
        self.steps
            .iter()
            .filter(|s| ids.contains(&s.id))
            .map(|s| Step {
                after: s
                    .after
                    .iter()
                    .filter(|a| ids.contains(*a))
                    .cloned()
                    .collect(),
                ..s.clone()
            })
            .collect()
    }
}

/// A step that failed, with its error.
#[derive(Debug)]
pub struct StepFailure<E> {
    /// The step.
    pub step: String,
    /// Its error.
    pub error: E,
}

/// Runs `steps`, each as soon as the ones it comes after are done, calling `on_start` and
/// `on_done` around each. Returns how long each step took, in completion order.
pub async fn execute<E, F, Fut>(
    steps: &[Step],
    run: F,
    mut on_start: impl FnMut(&Step),
    mut on_done: impl FnMut(&Step, Duration),
) -> Result<Vec<(String, Duration)>, StepFailure<E>>
where
    F: Fn(&Step) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut started: BTreeSet<&str> = BTreeSet::new();
    let mut running = FuturesUnordered::new();
    let mut timings = Vec::new();
    let mut failure = None;
    loop {
        if failure.is_none() {
            for step in steps {
                if !started.contains(step.id.as_str())
                    && step.after.iter().all(|a| done.contains(a.as_str()))
                {
                    started.insert(&step.id);
                    on_start(step);
                    let fut = run(step);
                    running.push(async move {
                        let t0 = Instant::now();
                        (step, fut.await, t0.elapsed())
                    });
                }
            }
        }
        let Some((step, result, took)) = running.next().await else {
            break;
        };
        match result {
            Ok(()) => {
                on_done(step, took);
                timings.push((step.id.clone(), took));
                done.insert(&step.id);
            }
            Err(error) => {
                failure.get_or_insert(StepFailure {
                    step: step.id.clone(),
                    error,
                });
            }
        }
    }
    if let Some(f) = failure {
        return Err(f);
    }
    if let Some(stuck) = steps.iter().find(|s| !done.contains(s.id.as_str())) {
        panic!(
            "step {} waits on a step that does not exist or a cycle: {:?}",
            stuck.id, stuck.after
        );
    }
    Ok(timings)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn step(id: &str, after: &[&str]) -> Step {
        Step {
            id: id.into(),
            what: id.into(),
            after: after.iter().map(|s| (*s).into()).collect(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn independent_steps_overlap_and_dependents_wait() {
        let steps = [step("a", &[]), step("b", &[]), step("c", &["a", "b"])];
        let log = Arc::new(Mutex::new(Vec::new()));
        let t0 = Instant::now();
        let timings = execute::<(), _, _>(
            &steps,
            |s| {
                let log = log.clone();
                let id = s.id.clone();
                async move {
                    log.lock().unwrap().push(format!("+{id}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    log.lock().unwrap().push(format!("-{id}"));
                    Ok(())
                }
            },
            |_| {},
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(timings.len(), 3);
        // a and b ran together: the whole plan took two step-lengths, not three.
        assert_eq!(t0.elapsed(), Duration::from_millis(200));
        let log = log.lock().unwrap();
        assert_eq!(&log[..2], ["+a", "+b"]);
        assert_eq!(log[4], "+c");
    }

    #[tokio::test]
    async fn failure_stops_dependents() {
        let steps = [step("a", &[]), step("b", &["a"])];
        let err = execute(
            &steps,
            |s| {
                let fail = s.id == "a";
                async move { if fail { Err("boom") } else { Ok(()) } }
            },
            |_| {},
            |_, _| {},
        )
        .await
        .unwrap_err();
        assert_eq!((err.step.as_str(), err.error), ("a", "boom"));
    }

    #[test]
    fn plan_orders_services_after_the_supervisor() {
        let config = DevnetConfig::new(&opdev_spec::Settings {
            l2: Some(2),
            ..Default::default()
        })
        .unwrap();
        let tools = opdev_profiles::Tools {
            anvil: "/bin/anvil".into(),
            opdev: "/bin/opdev".into(),
            postgres: None,
            prometheus: None,
            alertmanager: None,
            contracts: None,
            op_stack: None,
        };
        let secrets = opdev_profiles::Secrets {
            dir: "/s".into(),
            postgres_password: "p".into(),
            faucet_key: "0x01".into(),
            faucet_address: "0xf".into(),
            proposer_key: "0x02".into(),
            proposer_address: "0xp".into(),
            deployer_key: String::new(),
            rollup: Vec::new(),
        };
        let inputs = opdev_profiles::Inputs {
            config: &config,
            tools: &tools,
            secrets: &secrets,
            root: std::path::Path::new("/d"),
        };
        let plan = Plan::new(&config, opdev_profiles::services(inputs).unwrap());
        let service_steps: Vec<_> = plan
            .service_steps()
            .into_iter()
            .filter(|s| s.id.starts_with("start:l"))
            .collect();
        assert_eq!(service_steps.len(), 3);
        assert!(
            service_steps.iter().all(|s| s.after.is_empty()),
            "chains start in parallel"
        );
        let l1 = plan.steps.iter().find(|s| s.id == "start:l1").unwrap();
        assert_eq!(l1.after, ["supervisor"]);
    }
}
