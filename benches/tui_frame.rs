//! One TUI frame at 200×60 with 50 timeline rows and 30 containers, drawn into ratatui's
//! `TestBackend` (no terminal I/O): the drawing cost alone. Goal: under 1 ms.
//!
//!     cargo bench --bench tui_frame

use chaosdeck::docker::snapshot::{ContainerStatus, Engine, Health, Snapshot, State};
use chaosdeck::engine::{ActivityRef, ActivityStatus, Event, Phase};
use chaosdeck::tui::app::App;
use chaosdeck::tui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

const FRAMES: usize = 2_000;

fn container(i: usize) -> ContainerStatus {
    let name = format!("bench-container-{i:02}");
    ContainerStatus {
        id: format!("{name}-0123456789abcdef"),
        short_id: format!("{i:012}"),
        name,
        service: None,
        project: None,
        state: if i.is_multiple_of(7) {
            State::Exited
        } else {
            State::Running
        },
        health: Health::None,
        restart_count: (i % 3) as u64,
        exit_code: i.is_multiple_of(7).then_some(137),
        oom_killed: false,
        cpu_percent: Some(i as f64 * 0.7),
        memory_bytes: Some(1_048_576 * (i as u64 + 1)),
    }
}

/// An app in a run with 50 timeline rows (2 phase headers, 48 activities) and 30 containers.
fn app(now: Instant) -> App {
    let mut app = App::new(Theme::from_env(), "experiments".into());
    app.loading = false;
    app.containers = Snapshot {
        engine: Engine::Connected {
            address: "unix:///var/run/docker.sock".into(),
            api_version: "1.47".into(),
        },
        containers: (0..30).map(container).collect(),
    };
    app.run_started(0, now);
    let run = app.run.as_mut().expect("run");
    for phase in [Phase::Before, Phase::Method] {
        run.apply(Event::PhaseStarted(phase), now);
        for index in 0..24 {
            let activity = ActivityRef {
                phase,
                index,
                name: format!("activity-{index:02}"),
                kind: "probe".into(),
                background: false,
            };
            run.apply(Event::ActivityStarted(activity.clone()), now);
            if index < 23 {
                run.apply(
                    Event::ActivityFinished {
                        activity,
                        status: ActivityStatus::Succeeded,
                        duration: Duration::from_millis(120),
                        output: Some(serde_json::json!({"status": 200, "body": "ok"})),
                        tolerance: Some((true, "status 200 in {200}".into())),
                    },
                    now,
                );
            }
        }
    }
    app
}

fn main() {
    let start = Instant::now();
    let app = app(start);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
    let mut times = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES {
        let now = start + Duration::from_millis(i as u64);
        let t = Instant::now();
        terminal
            .draw(|f| chaosdeck::tui::view::draw(f, &app, now))
            .expect("draw");
        times.push(t.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!("tui frame 200x60, 50 timeline rows, 30 containers, {FRAMES} frames:");
    println!(
        "  median {:.0} µs   p99 {:.0} µs   max {:.0} µs",
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
