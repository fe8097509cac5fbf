//! App states built by hand for the TUI tests, with a fixed clock.
#![allow(dead_code)] // each test file uses part of the fixtures

use chaosdeck::docker::snapshot::{ContainerStatus, Engine, Health, Snapshot, State};
use chaosdeck::engine::{ActivityRef, ActivityStatus, Event, Phase, Prepared};
use chaosdeck::tui::app::App;
use chaosdeck::tui::catalog::{Entry, LastResult};
use chaosdeck::tui::theme::Theme;
use chaosdeck::tui::timeline::RunView;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;
use std::time::{Duration, Instant};

pub fn doc() -> serde_json::Value {
    json!({
        "title": "Database failure — the API reports it",
        "steady-state-hypothesis": {"title": "api healthy", "probes": [
            {"type": "probe", "name": "api-health", "tolerance": 200,
             "provider": {"type": "http", "url": "http://127.0.0.1:8080/health"}}]},
        "method": [
            {"type": "action", "name": "stop-database", "pauses": {"after": 5},
             "provider": {"type": "docker", "func": "stop", "container": "db"}},
            {"type": "probe", "name": "api-degraded",
             "provider": {"type": "http", "url": "http://127.0.0.1:8080/health"}}],
        "rollbacks": [{"type": "action", "name": "start-database",
             "provider": {"type": "docker", "func": "start", "container": "db"}}]
    })
}

fn entry(name: &str, title: &str, ok: bool, last: Option<(bool, &str)>) -> Entry {
    Entry {
        path: format!("experiments/{name}.yaml").into(),
        name: name.to_string(),
        title: title.to_string(),
        prepared: if ok {
            Ok(Prepared {
                doc: doc(),
                source: format!("experiments/{name}.yaml"),
                resolved: Default::default(),
            })
        } else {
            Err(format!(
                "experiments/{name}.yaml:4:3: method[0].provider.url is missing"
            ))
        },
        last: last.map(|(passed, status)| LastResult {
            passed,
            status: status.to_string(),
        }),
        targets: if ok {
            chaosdeck::tui::catalog::targets(&doc())
        } else {
            Vec::new()
        },
    }
}

fn container(name: &str, state: State, health: Health, cpu: Option<f64>) -> ContainerStatus {
    ContainerStatus {
        id: format!("{name}0123456789abcdef"),
        short_id: format!("{name}0123456"),
        name: name.to_string(),
        service: None,
        project: None,
        state,
        health,
        restart_count: 2,
        exit_code: (state == State::Exited).then_some(137),
        oom_killed: false,
        cpu_percent: cpu,
        memory_bytes: cpu.map(|_| 48 * 1024 * 1024),
    }
}

/// A folder of four experiments (one invalid, one with a CJK/emoji title), idle.
pub fn idle() -> App {
    let mut app = App::new(Theme { colour: false }, "experiments".into());
    app.loading = false;
    app.experiments = vec![
        entry(
            "cache",
            "Cache unavailable",
            true,
            Some((true, "completed")),
        ),
        entry(
            "db",
            "Database failure — the API reports it",
            true,
            Some((false, "completed")),
        ),
        entry("broken", "broken", false, None),
        entry(
            "cjk",
            "数据库故障 🔥 演练实验名称很长很长很长很长",
            true,
            None,
        ),
    ];
    app.selected = 1;
    app.containers = Snapshot {
        engine: Engine::Connected {
            address: "unix:///var/run/docker.sock".into(),
            api_version: "1.47".into(),
        },
        containers: vec![
            container("api", State::Running, Health::Healthy, Some(12.4)),
            container("cache", State::Running, Health::None, Some(0.3)),
            container("db", State::Exited, Health::None, None),
        ],
    };
    app
}

pub fn activity(phase: Phase, index: usize, name: &str, kind: &str) -> ActivityRef {
    ActivityRef {
        phase,
        index,
        name: name.to_string(),
        kind: kind.to_string(),
        background: false,
    }
}

/// The clock every fixture starts at.
pub fn t0() -> Instant {
    static T0: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *T0.get_or_init(Instant::now)
}

/// The database experiment mid-run: hypothesis met, database stopped, a countdown ticking,
/// the probe of the degraded API failed; the clock stands at 7 s.
pub fn running() -> (App, Instant) {
    let mut app = idle();
    app.run_started(1, t0());
    let at = |s: u64| t0() + Duration::from_secs(s);
    let run: &mut RunView = app.run.as_mut().unwrap();
    let health = activity(Phase::Before, 0, "api-health", "probe");
    let stop = activity(Phase::Method, 0, "stop-database", "action");
    let degraded = activity(Phase::Method, 1, "api-degraded", "probe");
    let events = [
        (0, Event::PhaseStarted(Phase::Before)),
        (0, Event::ActivityStarted(health.clone())),
        (
            1,
            Event::ActivityFinished {
                activity: health,
                status: ActivityStatus::Succeeded,
                duration: Duration::from_millis(120),
                output: Some(json!({"status": 200, "headers": {}, "body": "{\"db\":\"up\"}"})),
                tolerance: Some((true, "status 200 in {200}".into())),
            },
        ),
        (1, Event::PhaseStarted(Phase::Method)),
        (1, Event::ActivityStarted(stop.clone())),
        (
            2,
            Event::ActivityFinished {
                activity: stop.clone(),
                status: ActivityStatus::Succeeded,
                duration: Duration::from_millis(800),
                output: Some(json!({"id": "db0123456789", "state": "exited"})),
                tolerance: None,
            },
        ),
        (
            2,
            Event::Countdown {
                activity: stop,
                when: "after",
                remaining: Duration::from_secs(5),
            },
        ),
        (7, Event::ActivityStarted(degraded.clone())),
        (
            7,
            Event::ActivityFinished {
                activity: degraded,
                status: ActivityStatus::Failed("status 503 not in {200}".into()),
                duration: Duration::from_millis(40),
                output: Some(json!({"status": 503, "headers": {}, "body": "{\"db\":\"down\"}"})),
                tolerance: None,
            },
        ),
    ];
    for (s, e) in events {
        run.apply(e, at(s));
    }
    (app, at(7))
}

/// Renders the whole screen at `width`×`height` and returns it as lines of text.
pub fn screen(app: &App, now: Instant, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| chaosdeck::tui::view::draw(f, app, now))
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..height {
        let mut skip = 0;
        for x in 0..width {
            let cell = &buffer[(x, y)];
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = cell.symbol();
            skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            out.push_str(symbol);
        }
        out.push('\n');
    }
    out
}

/// Compares with tests/snapshots/<name>.txt; `UPDATE_SNAPSHOTS=1` rewrites it. A missing
/// snapshot fails, so nothing is accepted without a look.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}; run with UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    assert_eq!(actual, expected, "screen differs from {}", path.display());
}

/// A GameDay session of the fixtures' folder: one "before" item ticked of two, a prediction and
/// a failed run of `db`.
pub fn session() -> chaosdeck::gameday::Session {
    use chaosdeck::gameday::{ChecklistItem, Prediction, RunRecord, Session};
    let item = |group: &str, text: &str, by: Option<&str>| ChecklistItem {
        group: group.into(),
        text: text.into(),
        ticked_by: by.map(str::to_string),
        ticked_at: by.map(|_| "2026-12-04T10:42:01.000000+00:00".to_string()),
    };
    Session {
        id: "monthly-2026-12-04".into(),
        plan: "gamedays/monthly.yaml".into(),
        title: "Monthly resilience GameDay".into(),
        date: "2026-12-04".into(),
        created: "2026-12-04T10:40:00.000000+00:00".into(),
        facilitator: Some("ana".into()),
        checklist: vec![
            item("before", "Notify the team", Some("ana")),
            item("before", "Dashboards open", None),
            item("during", "Observations written down", None),
            item("after", "Action items created", None),
        ],
        go_override: None,
        overrides: Vec::new(),
        predictions: vec![Prediction {
            experiment: "db".into(),
            author: "bo".into(),
            text: "the API answers 503 within 5 s".into(),
            at: "2026-12-04T10:45:00.000000+00:00".into(),
        }],
        runs: vec![RunRecord {
            experiment: "db".into(),
            title: "Database failure".into(),
            started: "2026-12-04T10:50:00.000000+00:00".into(),
            journal_path: "/nowhere/db.json".into(),
            verdict: "failed".into(),
            reasons: vec!["method: 1 failed".into()],
            time_to_detect_seconds: Some(2.1),
            time_to_recover_seconds: Some(4.0),
            journal: json!({}),
        }],
        observations: Vec::new(),
        action_items: Vec::new(),
        current_run: None,
    }
}

/// The idle folder in GameDay mode on [`session`], as ana, the checklist pointing at its
/// second item.
pub fn gameday() -> App {
    let mut app = idle();
    with_session(&mut app);
    app
}

/// Puts an app (idle or running) in GameDay mode on [`session`].
pub fn with_session(app: &mut App) {
    use chaosdeck::tui::gameday::GamedayView;
    app.gameday = Some(GamedayView {
        store: chaosdeck::gameday::store::Store::new(std::path::Path::new(
            "/nonexistent/chaosdeck-fixture",
        )),
        session: session(),
        who: "ana".into(),
        time_boxes: vec![
            ("experiments/db.yaml".into(), "30m".into()),
            ("experiments/cache.yaml".into(), "45m".into()),
        ],
        cursor: 1,
        draft: None,
        notes_shown: 0,
        read_at: None,
    });
}

/// A key as the terminal sends it.
pub fn key(code: crossterm::event::KeyCode) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE)
}

/// Types text into whatever takes the keys, through the key table.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let k = key(crossterm::event::KeyCode::Char(c));
        if let Some(action) = chaosdeck::tui::keys::action_for(k, &app.contexts()) {
            app.update(action);
        }
    }
}
