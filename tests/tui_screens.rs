//! Snapshot tests of every panel and popup at 80×24 and 120×40, from hand-built states with a
//! fixed clock. Each also asserts in code what a reader must see, so a snapshot accepted by
//! mistake still fails.

mod tui_fixtures;

use chaosdeck::tui::app::{Popup, Question};
use chaosdeck::tui::timeline::{Countdown, Row, RunState};
use tui_fixtures::{assert_snapshot, idle, running, screen, t0};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn each_size(name: &str, app: &chaosdeck::tui::app::App, now: std::time::Instant) -> Vec<String> {
    SIZES
        .iter()
        .map(|&(w, h)| {
            let s = screen(app, now, w, h);
            assert_snapshot(&format!("{name}-{w}x{h}"), &s);
            s
        })
        .collect()
}

#[test]
fn idle_list_and_containers() {
    let app = idle();
    for s in each_size("idle", &app, t0()) {
        assert!(s.contains("✓ Cache unavailable"), "{s}");
        assert!(s.contains("failed (completed)"), "{s}");
        assert!(s.contains("✗ broken") && s.contains("invalid"), "{s}");
        assert!(s.contains("4:3: method[0]"), "the error shows: {s}");
        assert!(
            s.contains("exited (137)"),
            "the stopped db shows its state: {s}"
        );
        assert!(s.contains("◆■db"), "db is targeted and stopped: {s}");
        let (db, api) = (s.find("◆■db").unwrap(), s.find("✓api").unwrap());
        assert!(db < api, "the target is listed before the others: {s}");
        assert!(s.contains("· ready"), "{s}");
        assert!(s.contains("s start"), "{s}");
    }
}

#[test]
fn running_timeline_probe_and_status() {
    let (mut app, now) = running();
    app.run.as_mut().unwrap().selected = Some(4);
    for s in each_size("running", &app, now) {
        assert!(s.contains("── Steady state, before"), "{s}");
        assert!(s.contains("✓ api-health"), "{s}");
        assert!(s.contains("tolerance met"), "{s}");
        assert!(s.contains("✗ api-degraded"), "{s}");
        assert!(
            s.contains("verdict: ✗ failed"),
            "selected activity verdict: {s}"
        );
        assert!(s.contains("failure: status 503 not in {200}"), "{s}");
        assert!(s.contains("▶ running · Database failure"), "{s}");
        assert!(s.contains("7.0s"), "run clock: {s}");
        assert!(s.contains("a abort + rollback"), "{s}");
    }
}

#[test]
fn probe_shows_the_comparison_of_a_hypothesis_probe() {
    let (mut app, now) = running();
    app.run.as_mut().unwrap().selected = Some(1);
    for s in each_size("probe-comparison", &app, now) {
        assert!(s.contains("Result — api-health"), "{s}");
        assert!(s.contains("comparison: status 200 in {200}"), "{s}");
        assert!(s.contains("status: 200"), "{s}");
    }
}

#[test]
fn countdown_ticks_on_its_row() {
    let (app, _) = running();
    let mut app = app;
    let run = app.run.as_mut().unwrap();
    run.rows.truncate(4);
    if let Some(Row::Activity(stop)) = run.rows.get_mut(3) {
        stop.countdown = Some(Countdown::Ticking {
            until: t0() + std::time::Duration::from_secs(7),
            when: "after",
        });
    }
    assert!(run.animating(), "a ticking countdown animates");
    let now = t0() + std::time::Duration::from_secs(4);
    for s in each_size("countdown", &app, now) {
        assert!(s.contains("✓ stop-database"), "{s}");
        assert!(
            s.contains("⏸ 3.0s") || s.contains("⏸ pause after: 3.0s left"),
            "{s}"
        );
    }
}

#[test]
fn finished_run_shows_the_verdict() {
    let (mut app, now) = running();
    let run = app.run.as_mut().unwrap();
    run.state = RunState::Finished {
        status: "completed".into(),
        passed: false,
    };
    run.ended = Some(now);
    for s in each_size("finished", &app, now + std::time::Duration::from_secs(60)) {
        assert!(s.contains("✗ FAILED (completed)"), "{s}");
        assert!(s.contains("7.0s"), "the clock stops at the end: {s}");
    }
}

#[test]
fn engine_unreachable_is_said() {
    let mut app = idle();
    app.containers = chaosdeck::docker::snapshot::Snapshot::empty(
        chaosdeck::docker::snapshot::Engine::Unreachable {
            address: "unix:///nowhere.sock".into(),
            reason: "connection refused".into(),
        },
    );
    for s in each_size("unreachable", &app, t0()) {
        assert!(s.contains("engine unreachable: connection refused"), "{s}");
    }
}

#[test]
fn plan_popup_lists_what_will_run() {
    let mut app = idle();
    app.popup = Some(Popup::Plan(1));
    for s in each_size("plan", &app, t0()) {
        assert!(s.contains("Hypothesis probes — api healthy"), "{s}");
        assert!(
            s.contains("t start stepping"),
            "the stepping start is offered: {s}"
        );
        assert!(
            s.contains("1. probe api-health: GET http://127.0.0.1:8080/health"),
            "{s}"
        );
        assert!(
            s.contains("1. action stop-database: docker stop db (pause after 5s)"),
            "{s}"
        );
        assert!(
            s.contains("1. action start-database: docker start db"),
            "{s}"
        );
        assert!(s.contains("y/enter start"), "{s}");
    }
}

#[test]
fn help_popup_lists_every_key() {
    let mut app = idle();
    app.popup = Some(Popup::Help);
    for s in each_size("help", &app, t0()) {
        for b in chaosdeck::tui::keys::TABLE {
            assert!(s.contains(b.label), "help lacks {}: {s}", b.label);
            assert!(s.contains(b.shown), "help lacks {}: {s}", b.shown);
        }
    }
}

#[test]
fn questions_ask_before_acting() {
    let (mut app, now) = running();
    app.popup = Some(Popup::Ask(Question::AbortWithoutRollback));
    for s in each_size("ask-abort", &app, now) {
        assert!(s.contains("Abort without rollback?"), "{s}");
    }
    app.popup = Some(Popup::Ask(Question::QuitDuringRun));
    for s in each_size("ask-quit", &app, now) {
        assert!(s.contains("Quit during a run?"), "{s}");
    }
}

#[test]
fn owed_rollbacks_banner() {
    let mut app = idle();
    app.banner =
        Some("1 earlier run ended owing rollbacks — `chaosdeck recover` plays them".into());
    for s in each_size("banner", &app, t0()) {
        assert!(s.lines().next().unwrap().contains("owing rollbacks"), "{s}");
    }
}

#[test]
fn too_small_terminal_says_so() {
    let (app, now) = running();
    let s = screen(&app, now, 79, 24);
    assert!(s.contains("terminal too small"), "{s}");
    assert!(s.contains("need 80×24, have 79×24"), "{s}");
    assert_snapshot("too-small-79x24", &s);
}

#[test]
fn any_size_down_to_one_cell_renders() {
    let (mut app, now) = running();
    for popup in [None, Some(Popup::Help), Some(Popup::Plan(1))] {
        app.popup = popup;
        for w in (1..=130).step_by(7).chain([1, 2, 79, 80, 81]) {
            for h in (1..=45).step_by(4).chain([1, 23, 24, 25]) {
                screen(&app, now, w, h);
            }
        }
    }
}

#[test]
fn cjk_and_emoji_titles_are_cut_on_whole_characters() {
    let mut app = idle();
    app.selected = 3;
    for s in each_size("cjk", &app, t0()) {
        let line = s.lines().find(|l| l.contains("数据库")).unwrap();
        assert!(line.contains('…'), "{line}");
        assert!(!line.contains('\u{FFFD}'), "{line}");
    }
}

#[test]
fn session_panel_shows_checklist_gate_and_predictions_beside_results() {
    let mut app = tui_fixtures::gameday();
    app.popup = Some(Popup::Session);
    for s in each_size("session", &app, t0()) {
        assert!(
            s.contains("Monthly resilience GameDay — monthly-2026-12-04 · as ana"),
            "{s}"
        );
        assert!(
            s.contains("before (1/2 ticked) — needed before a run"),
            "{s}"
        );
        assert!(s.contains("✓ Notify the team — ana 10:42:01"), "{s}");
        assert!(s.contains("▸ · Dashboards open"), "the cursor: {s}");
        assert!(
            s.contains("during (0/1 ticked)") && s.contains("after (0/1 ticked)"),
            "{s}"
        );
        assert!(s.contains("predictions — db · time box 30m"), "{s}");
        assert!(s.contains("bo: the API answers 503 within 5 s"), "{s}");
        assert!(
            s.contains("result: ✗ failed (last of 1 run) · detect 2.1 s · recover 4.0 s"),
            "the result stands beside the prediction: {s}"
        );
        assert!(s.contains("space tick/untick"), "{s}");
    }
}

#[test]
fn experiment_list_shows_time_boxes_in_gameday_mode() {
    let app = tui_fixtures::gameday();
    let s = screen(&app, t0(), 120, 40);
    let lines: Vec<&str> = s.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Database failure"))
        .unwrap();
    assert!(lines[at + 1].contains("time box 30m"), "{s}");
    assert!(
        s.contains("o note") && s.contains("c checklist"),
        "hints: {s}"
    );
}

#[test]
fn editor_popup_during_a_run_shows_tag_and_run_clock() {
    use chaosdeck::tui::gameday::Purpose;
    let (mut app, now) = running();
    tui_fixtures::with_session(&mut app);
    app.open_editor(Purpose::Note);
    tui_fixtures::type_text(&mut app, "alerts stayed silent");
    for _ in 0..3 {
        app.update(chaosdeck::tui::app::Action::CycleTag);
    }
    for s in each_size("editor", &app, now) {
        assert!(s.contains("[issue found]"), "the tag chosen: {s}");
        assert!(s.contains("observation"), "the other tags: {s}");
        assert!(
            s.contains("at 7.0s on the run clock, during api-degraded"),
            "the stamp: {s}"
        );
        assert!(s.contains("alerts stayed silent"), "{s}");
        assert!(!s.contains("owner"), "only action items ask an owner: {s}");
        assert!(s.contains("enter/ctrl-s save"), "{s}");
    }
    app.update(chaosdeck::tui::app::Action::CycleTag);
    for s in each_size("editor-action-item", &app, now) {
        assert!(s.contains("[action item]"), "{s}");
        assert!(s.contains("owner") && s.contains("due (YYYY-MM-DD)"), "{s}");
        assert!(s.contains("tab owner/due"), "{s}");
    }
}

#[test]
fn override_prompt_when_the_checklist_is_not_done() {
    let mut app = tui_fixtures::gameday();
    app.update(chaosdeck::tui::app::Action::Start);
    assert_eq!(app.popup, Some(Popup::Editor));
    for s in each_size("override", &app, t0()) {
        assert!(s.contains("Override — the checklist is not done"), "{s}");
        assert!(s.contains("1 \"before\" item(s) not ticked"), "{s}");
        assert!(s.contains("why run before the checklist is done?"), "{s}");
        assert!(!s.contains("tag:"), "an override has no tag: {s}");
        assert!(!s.contains("ctrl-t"), "nor a tag key in the hints: {s}");
        assert!(
            s.contains("GameDay monthly-2026-12-04 · before 1/2 ticked"),
            "{s}"
        );
    }
}

#[test]
fn timeline_shows_a_note_under_its_activity() {
    use chaosdeck::gameday::Tag;
    use chaosdeck::tui::timeline::NoteRow;
    let (mut app, now) = running();
    tui_fixtures::with_session(&mut app);
    let run = app.run.as_mut().unwrap();
    run.add_note(
        Some("stop-database"),
        NoteRow {
            clock: Some(std::time::Duration::from_secs(3)),
            tag: Tag::IssueFound,
            text: "alerts stayed silent".into(),
            author: "cy".into(),
        },
    );
    assert!(matches!(run.rows[4], Row::Note(_)), "{:?}", run.rows);
    for s in each_size("timeline-note", &app, now) {
        let lines: Vec<&str> = s.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("stop-database"))
            .unwrap();
        assert!(
            lines[at + 1].contains("✎ +3.0s [issue found] alerts stayed silent — cy"),
            "{s}"
        );
        assert!(
            lines[at + 2].contains("api-degraded"),
            "then the next activity: {s}"
        );
    }
}

#[test]
fn picker_lists_plans_and_sessions() {
    use chaosdeck::tui::gameday::{Choice, Picker};
    let mut app = idle();
    app.picker = Some(Picker {
        choices: vec![
            Choice::Plan {
                path: "gamedays/monthly.yaml".into(),
                title: "Monthly resilience GameDay".into(),
            },
            Choice::Session {
                id: "monthly-2026-12-04".into(),
                title: "Monthly resilience GameDay".into(),
                plan: "gamedays/monthly.yaml".into(),
                date: "2026-12-04".into(),
                summary: "checklist 1/4 · runs 1 · notes 0".into(),
            },
        ],
        cursor: 1,
        problems: vec!["gamedays/bad.yaml:3:5: experiments[0].path …".into()],
    });
    app.popup = Some(Popup::Picker);
    for s in each_size("picker", &app, t0()) {
        assert!(
            s.contains("plan     Monthly resilience GameDay — gamedays/monthly.yaml"),
            "{s}"
        );
        assert!(s.contains("↺ session  monthly-2026-12-04"), "{s}");
        assert!(
            s.contains("gamedays/bad.yaml:3:5"),
            "the unreadable plan: {s}"
        );
    }
}

#[test]
fn gameday_popups_render_at_any_size() {
    use chaosdeck::tui::gameday::Purpose;
    let (mut app, now) = running();
    tui_fixtures::with_session(&mut app);
    app.picker = Some(Default::default());
    for popup in [Popup::Session, Popup::Picker, Popup::Editor] {
        if popup == Popup::Editor {
            app.open_editor(Purpose::Note);
            app.update(chaosdeck::tui::app::Action::CycleTag);
            for _ in 0..3 {
                app.update(chaosdeck::tui::app::Action::CycleTag);
            }
        }
        app.popup = Some(popup);
        for w in (1..=130).step_by(9).chain([1, 2, 79, 80]) {
            for h in (1..=45).step_by(5).chain([1, 23, 24]) {
                screen(&app, now, w, h);
            }
        }
    }
}

/// The plan shows what will really run: `${name}` as the configuration resolves it, and a
/// secret as `***`, never its value.
#[tokio::test]
async fn the_plan_shows_resolved_targets_and_masks_secrets() {
    let dir = std::env::temp_dir().join(format!("chaosdeck-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("resolved.yaml");
    std::fs::write(
        &path,
        r#"title: resolved plan
description: d
configuration:
  api_url: http://127.0.0.1:18999
secrets:
  api:
    token: s3cr3t-value
method:
  - type: action
    name: break-it
    provider:
      type: http
      url: ${api_url}/break?token=${token}
"#,
    )
    .unwrap();
    let entry = chaosdeck::tui::catalog::load(path, None).await;
    assert!(entry.prepared.is_ok(), "{:?}", entry.prepared.err());
    let mut app = idle();
    app.experiments = vec![entry];
    app.selected = 0;
    app.popup = Some(Popup::Plan(0));
    let s = screen(&app, t0(), 120, 40);
    assert!(s.contains("http://127.0.0.1:18999/break?token=***"), "{s}");
    assert!(!s.contains("${api_url}"), "{s}");
    assert!(!s.contains("s3cr3t-value"), "a secret on screen: {s}");
    std::fs::remove_dir_all(&dir).unwrap();
}
