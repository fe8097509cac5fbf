//! One streamed stats feed per running container: a task that turns the engine's samples into
//! CPU and memory figures and forwards only those a reader would notice.

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
    let now = sample.cpu_stats.as_ref()?;
    let before = sample.precpu_stats.as_ref()?;
    let total = |s: &ContainerCpuStats| s.cpu_usage.as_ref()?.total_usage;
    let (now_total, before_total) = (total(now)?, total(before)?);
    let (now_system, before_system) = (now.system_cpu_usage?, before.system_cpu_usage?);
    // The first sample of a stream has no previous one: nothing to compare yet.
    if before_system == 0 || now_system <= before_system {
        return None;
    }
    let cpus = now
        .online_cpus
        .map(u64::from)
        .filter(|n| *n > 0)
        .or_else(|| {
            let per_cpu = now.cpu_usage.as_ref()?.percpu_usage.as_ref()?;
            Some(per_cpu.len() as u64).filter(|n| *n > 0)
        })?;
    let used = now_total.saturating_sub(before_total) as f64;
    let elapsed = (now_system - before_system) as f64;
    Some(used / elapsed * cpus as f64 * 100.0)
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
    fn the_first_sample_has_no_cpu_figure() {
        let sample = ContainerStatsResponse {
            cpu_stats: Some(cpu(1_500, 12_000)),
            precpu_stats: Some(cpu(0, 0)),
            ..Default::default()
        };
        assert_eq!(reading(&sample), Reading::default());
    }
}
