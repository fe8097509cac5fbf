//! Container stats, two ways: a streamed feed (one sample a second from the engine) for the
//! containers the experiment targets, and one-shot samples taken now and then for the rest. Both
//! turn the engine's answer into CPU and memory figures.

use bollard::models::{ContainerCpuStats, ContainerStatsResponse};
use bollard::query_parameters::StatsOptions;
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::docker::snapshot::{readings_differ, Reading};

/// A message from a feed to the watcher loop. Each carries the number of the feed that sent it,
/// so a message from a feed already replaced is ignored.
pub(super) enum FeedMessage {
    Reading(String, u64, Reading),
    Ended(String, u64),
    /// A one-shot sample of a container, or `None` when the engine gave none.
    Sampled(String, Option<Sample>),
}

/// A container's cumulative CPU counters at one moment; two of them give its CPU share between.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct CpuCounters {
    /// The container's CPU time, in nanoseconds.
    total: u64,
    /// The host's CPU time, in the engine's units (nanoseconds summed over CPUs).
    system: u64,
    cpus: u64,
}

impl CpuCounters {
    /// CPU use between `before` and `self`, in percent of one core, as `docker stats` counts it.
    pub(super) fn percent_since(self, before: CpuCounters) -> Option<f64> {
        if before.system == 0 || self.system <= before.system || self.cpus == 0 {
            return None;
        }
        let used = self.total.saturating_sub(before.total) as f64;
        let elapsed = (self.system - before.system) as f64;
        Some(used / elapsed * self.cpus as f64 * 100.0)
    }
}

/// One one-shot sample: the figures it gives by itself, and its counters for the next one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Sample {
    /// CPU is only known when the engine measured an interval itself (a first sample).
    pub(super) reading: Reading,
    pub(super) counters: Option<CpuCounters>,
}

/// Takes one stats sample of `container` on a task of its own and sends it as
/// [`FeedMessage::Sampled`]. A `first` sample lets the engine measure an interval (it answers
/// about a second later, with CPU); later ones answer at once and CPU comes from comparing
/// counters with the previous sample.
pub(super) fn sample(
    docker: &Docker,
    container: String,
    first: bool,
    out: mpsc::Sender<FeedMessage>,
) -> JoinHandle<()> {
    let docker = docker.clone();
    tokio::spawn(async move {
        let options = StatsOptions {
            stream: false,
            one_shot: !first,
        };
        let mut stream = docker.stats(&container, Some(options));
        let taken = match stream.next().await {
            Some(Ok(answer)) => Some(Sample {
                reading: reading(&answer),
                counters: answer.cpu_stats.as_ref().and_then(counters),
            }),
            _ => None,
        };
        let _ = out.send(FeedMessage::Sampled(container, taken)).await;
    })
}

/// One stats stream; aborted when dropped, so removing it from the map (or dropping the session)
/// closes the stream.
pub(super) struct Feed {
    task: JoinHandle<()>,
    pub(super) number: u64,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Opens a streamed stats feed for `container`. It forwards only readings that look different
/// from the last one it forwarded, so idle containers cost the watcher loop nothing.
pub(super) fn open(
    docker: &Docker,
    container: String,
    number: u64,
    out: mpsc::Sender<FeedMessage>,
) -> Feed {
    let docker = docker.clone();
    let task = tokio::spawn(async move {
        let options = StatsOptions {
            stream: true,
            one_shot: false,
        };
        let mut stream = docker.stats(&container, Some(options));
        let mut last = Reading::default();
        while let Some(Ok(sample)) = stream.next().await {
            let reading = reading(&sample);
            // The first sample has no CPU figure yet; wait for one that does.
            if reading.cpu_percent.is_none() || !readings_differ(reading, last) {
                continue;
            }
            last = reading;
            let message = FeedMessage::Reading(container.clone(), number, reading);
            if out.send(message).await.is_err() {
                return;
            }
        }
        let _ = out.send(FeedMessage::Ended(container, number)).await;
    });
    Feed { task, number }
}

/// CPU as `docker stats` computes it (the container's share of the host's CPU time between this
/// sample and the previous one, times the online CPUs), and memory less the inactive page cache
/// (`total_inactive_file` on cgroup v1, `inactive_file` on v2).
fn reading(sample: &ContainerStatsResponse) -> Reading {
    Reading {
        cpu_percent: cpu_percent(sample),
        memory_bytes: memory_bytes(sample),
    }
}

fn cpu_percent(sample: &ContainerStatsResponse) -> Option<f64> {
    let now = counters(sample.cpu_stats.as_ref()?)?;
    let before = sample.precpu_stats.as_ref()?;
    let before = CpuCounters {
        total: before.cpu_usage.as_ref()?.total_usage?,
        // The first sample of a stream has no previous one: zero, so nothing to compare yet.
        system: before.system_cpu_usage.unwrap_or(0),
        cpus: now.cpus,
    };
    now.percent_since(before)
}

/// The counters of one sample; the CPU count from `online_cpus`, else from the per-CPU list.
fn counters(stats: &ContainerCpuStats) -> Option<CpuCounters> {
    let usage = stats.cpu_usage.as_ref()?;
    let cpus = stats
        .online_cpus
        .map(u64::from)
        .filter(|n| *n > 0)
        .or_else(|| Some(usage.percpu_usage.as_ref()?.len() as u64).filter(|n| *n > 0))?;
    Some(CpuCounters {
        total: usage.total_usage?,
        system: stats.system_cpu_usage?,
        cpus,
    })
}

fn memory_bytes(sample: &ContainerStatsResponse) -> Option<u64> {
    let memory = sample.memory_stats.as_ref()?;
    let usage = memory.usage?;
    let inactive = memory.stats.as_ref().and_then(|stats| {
        stats
            .get("total_inactive_file")
            .or_else(|| stats.get("inactive_file"))
            .copied()
    });
    Some(match inactive {
        Some(cache) if cache < usage => usage - cache,
        _ => usage,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{ContainerCpuUsage, ContainerMemoryStats};

    use super::*;

    fn cpu(total: u64, system: u64) -> ContainerCpuStats {
        ContainerCpuStats {
            cpu_usage: Some(ContainerCpuUsage {
                total_usage: Some(total),
                ..Default::default()
            }),
            system_cpu_usage: Some(system),
            online_cpus: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn cpu_is_percent_of_one_core_and_memory_leaves_out_the_page_cache() {
        // The host's 2 CPUs ran 2,000 ticks; the container used 500 of them: half a core.
        let sample = ContainerStatsResponse {
            cpu_stats: Some(cpu(1_500, 12_000)),
            precpu_stats: Some(cpu(1_000, 10_000)),
            memory_stats: Some(ContainerMemoryStats {
                usage: Some(10 << 20),
                stats: Some(HashMap::from([(
                    "total_inactive_file".to_string(),
                    4 << 20,
                )])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let reading = reading(&sample);
        assert_eq!(reading.cpu_percent, Some(50.0));
        assert_eq!(reading.memory_bytes, Some(6 << 20));
    }

    #[test]
    fn two_one_shot_samples_give_the_share_between_them() {
        let first = counters(&cpu(1_000, 10_000)).unwrap();
        let second = counters(&cpu(1_250, 12_000)).unwrap();
        // 250 of the host's 2,000 ticks on 2 CPUs: a quarter of a core.
        assert_eq!(second.percent_since(first), Some(25.0));
        assert_eq!(
            first.percent_since(second),
            None,
            "time never runs backwards"
        );
    }

    #[test]
    fn the_first_sample_has_no_cpu_figure() {
        let sample = ContainerStatsResponse {
            cpu_stats: Some(cpu(1_500, 12_000)),
            precpu_stats: Some(cpu(0, 0)),
            ..Default::default()
        };
        assert_eq!(reading(&sample), Reading::default());
    }
}
