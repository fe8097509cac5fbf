//! Key-sequence tests of the app's update step: keys go through the key table, actions through
//! `App::update`, and the effects that come out are what the event loop would do.

mod tui_fixtures;

use chaosdeck::engine::Control;
use chaosdeck::tui::app::{Action, App, Effect, Popup, Question};
use chaosdeck::tui::keys::{action_for, TABLE};
use chaosdeck::tui::timeline::RunState;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_fixtures::{idle, running};

/// Presses keys in order; returns every effect.
fn press(app: &mut App, keys: &[KeyCode]) -> Vec<Effect> {
    keys.iter()
        .filter_map(|&k| {
            let action = action_for(KeyEvent::new(k, KeyModifiers::NONE), &app.contexts())?;
            app.update(action)
        })
        .collect()
}

#[test]
fn start_shows_the_plan_then_confirm_starts() {
    let mut app = idle();
    assert!(press(&mut app, &[KeyCode::Char('s')]).is_empty());
    assert_eq!(app.popup, Some(Popup::Plan(1)));
    assert_eq!(
        press(&mut app, &[KeyCode::Char('y')]),
        vec![Effect::StartRun(1)]
    );
    assert_eq!(app.popup, None);
}

#[test]
fn the_plan_can_be_cancelled() {
    let mut app = idle();
    assert!(press(&mut app, &[KeyCode::Enter, KeyCode::Esc]).is_empty());
    assert_eq!(app.popup, None);
}

#[test]
fn an_invalid_experiment_does_not_start() {
    let mut app = idle();
    press(&mut app, &[KeyCode::Down, KeyCode::Char('s')]);
    assert_eq!(app.selected, 2);
    assert_eq!(app.popup, None);
    // It says why, instead of doing nothing: a banner, and every error in the Result panel.
    let banner = app.banner.clone().unwrap_or_default();
    assert!(banner.contains("cannot run: 1 error"), "{banner}");
    let s = tui_fixtures::screen(&app, tui_fixtures::t0(), 120, 40);
    assert!(s.contains("Why broken cannot run"), "{s}");
    let panel: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.contains("Why broken"))
        .collect();
    assert!(
        panel
            .iter()
            .any(|l| l.contains("broken.yaml:4:3: method[0].provider.url"))
            && panel.iter().any(|l| l.contains("│is missing")),
        "the whole error, wrapped: {s}"
    );
    // Moving on, the banner about that experiment goes.
    press(&mut app, &[KeyCode::Down]);
    assert_eq!(app.banner, None);
}

#[test]
fn abort_during_a_run_asks_nothing() {
    let (mut app, _) = running();
    assert_eq!(
        press(&mut app, &[KeyCode::Char('a')]),
        vec![Effect::Control(Control::Abort)]
    );
    assert_eq!(app.popup, None);
}

#[test]
fn abort_without_rollback_asks_first() {
    let (mut app, _) = running();
    assert!(press(&mut app, &[KeyCode::Char('A')]).is_empty());
    assert_eq!(app.popup, Some(Popup::Ask(Question::AbortWithoutRollback)));
    assert!(
        press(&mut app, &[KeyCode::Char('n')]).is_empty(),
        "no is no"
    );
    assert_eq!(
        press(&mut app, &[KeyCode::Char('A'), KeyCode::Char('y')]),
        vec![Effect::Control(Control::AbortWithoutRollback)]
    );
}

#[test]
fn quit_during_a_run_asks_then_aborts_with_rollback() {
    let (mut app, _) = running();
    assert!(press(&mut app, &[KeyCode::Char('q')]).is_empty());
    assert_eq!(app.popup, Some(Popup::Ask(Question::QuitDuringRun)));
    assert_eq!(
        press(&mut app, &[KeyCode::Char('y')]),
        vec![Effect::Control(Control::Abort)]
    );
    assert!(app.quit_after_run);
}

#[test]
fn quit_when_idle_quits_and_ctrl_c_is_quit() {
    let mut app = idle();
    assert_eq!(press(&mut app, &[KeyCode::Char('q')]), vec![Effect::Quit]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(action_for(ctrl_c, &app.contexts()), Some(Action::Quit));
}

#[test]
fn pause_resume_and_step() {
    let (mut app, _) = running();
    assert_eq!(
        press(&mut app, &[KeyCode::Char('p')]),
        vec![Effect::Control(Control::Pause)]
    );
    app.run.as_mut().unwrap().state = RunState::Held(Some("api-degraded".into()));
    assert_eq!(
        press(&mut app, &[KeyCode::Char('n')]),
        vec![Effect::Control(Control::Step)]
    );
    assert_eq!(
        press(&mut app, &[KeyCode::Char(' ')]),
        vec![Effect::Control(Control::Resume)]
    );
}

#[test]
fn run_keys_do_nothing_when_idle() {
    let mut app = idle();
    assert!(press(
        &mut app,
        &[KeyCode::Char('a'), KeyCode::Char('p'), KeyCode::Char('A')]
    )
    .is_empty());
    assert_eq!(app.popup, None);
}

#[test]
fn help_opens_and_closes_and_every_binding_has_a_key() {
    let mut app = idle();
    press(&mut app, &[KeyCode::Char('?')]);
    assert_eq!(app.popup, Some(Popup::Help));
    press(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.popup, None);
    for b in TABLE {
        assert!(!b.keys.is_empty() && !b.label.is_empty(), "{b:?}");
    }
}

#[test]
fn arrows_move_the_timeline_selection_once_focused() {
    let (mut app, _) = running();
    let run = app.run.as_ref().unwrap();
    assert_eq!(run.focused().unwrap().activity.name, "api-degraded");
    press(&mut app, &[KeyCode::Up, KeyCode::Up]);
    let run = app.run.as_ref().unwrap();
    assert_eq!(run.focused().unwrap().activity.name, "api-health");
}

#[test]
fn skip_only_when_held() {
    let (mut app, _) = running();
    assert!(
        press(&mut app, &[KeyCode::Char('x')]).is_empty(),
        "nothing to skip while running"
    );
    app.run.as_mut().unwrap().state = RunState::Held(Some("api-degraded".into()));
    assert_eq!(
        press(&mut app, &[KeyCode::Char('x')]),
        vec![Effect::Control(Control::Skip)]
    );
    assert!(press(&mut idle(), &[KeyCode::Char('x')]).is_empty());
}

#[test]
fn a_skipped_activity_ends_the_hold() {
    let (mut app, now) = running();
    let run = app.run.as_mut().unwrap();
    run.state = RunState::Held(Some("api-degraded".into()));
    let next = run.focused().unwrap().activity.clone();
    run.apply(chaosdeck::engine::Event::Skipped(next), now);
    assert_eq!(run.state, RunState::Running);
}

#[test]
fn the_plan_can_start_a_run_in_step_mode() {
    let mut app = idle();
    press(&mut app, &[KeyCode::Char('s')]);
    assert_eq!(
        press(&mut app, &[KeyCode::Char('t')]),
        vec![Effect::StartStepping(1)]
    );
    assert_eq!(app.popup, None);
    // Outside the plan, the stepping key means nothing.
    let (mut app, _) = running();
    press(&mut app, &[KeyCode::Char('A')]);
    assert!(press(&mut app, &[KeyCode::Char('t')]).is_empty());
    assert_eq!(app.popup, Some(Popup::Ask(Question::AbortWithoutRollback)));
}

#[test]
fn owed_rollbacks_play_from_the_banner_once_confirmed() {
    let mut app = idle();
    assert!(
        press(&mut app, &[KeyCode::Char('r')]).is_empty(),
        "nothing owed, nothing to ask"
    );
    assert_eq!(app.popup, None);
    app.owed_runs = 2;
    press(&mut app, &[KeyCode::Char('r')]);
    assert_eq!(app.popup, Some(Popup::Ask(Question::PlayOwed)));
    assert!(press(&mut app, &[KeyCode::Esc]).is_empty());
    assert_eq!(
        press(&mut app, &[KeyCode::Char('r'), KeyCode::Char('y')]),
        vec![Effect::PlayOwed]
    );
    // Not during a run: its own rollbacks come first.
    let (mut app, _) = running();
    app.owed_runs = 1;
    assert!(press(&mut app, &[KeyCode::Char('r')]).is_empty());
    assert_eq!(app.popup, None);
}

// GameDay mode: the checklist, the gate, the editor.

use chaosdeck::gameday::Tag;
use chaosdeck::tui::gameday::Purpose;
use tui_fixtures::{gameday, type_text};

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn press_event(app: &mut App, key: KeyEvent) -> Option<Effect> {
    let action = action_for(key, &app.contexts())?;
    app.update(action)
}

#[test]
fn the_checklist_ticks_and_unticks_the_item_pointed_at() {
    let mut app = gameday();
    app.gameday.as_mut().unwrap().cursor = 0;
    assert!(press(&mut app, &[KeyCode::Char('c')]).is_empty());
    assert_eq!(app.popup, Some(Popup::Session));
    // The first is ticked: space unticks it; the second is not: space ticks it.
    assert_eq!(
        press(&mut app, &[KeyCode::Char(' ')]),
        vec![Effect::Tick {
            index: 0,
            ticked: false
        }]
    );
    assert_eq!(
        press(&mut app, &[KeyCode::Char('j'), KeyCode::Enter]),
        vec![Effect::Tick {
            index: 1,
            ticked: true
        }]
    );
    // The cursor stops at the last item.
    press(&mut app, &[KeyCode::Down; 10]);
    assert_eq!(app.gameday.as_ref().unwrap().cursor, 3);
    assert!(press(&mut app, &[KeyCode::Esc]).is_empty());
    assert_eq!(app.popup, None);
}

#[test]
fn a_start_before_the_checklist_is_done_asks_for_an_override_reason() {
    let mut app = gameday();
    assert!(press(&mut app, &[KeyCode::Char('s')]).is_empty());
    assert_eq!(app.popup, Some(Popup::Editor));
    assert_eq!(app.editor.as_ref().unwrap().purpose, Purpose::Override(1));
    // No reason, no override.
    assert!(press(&mut app, &[KeyCode::Enter]).is_empty());
    assert!(app.editor.as_ref().unwrap().error.is_some());
    type_text(&mut app, "dashboards down for maintenance");
    assert_eq!(
        press(&mut app, &[KeyCode::Enter]),
        vec![Effect::Override {
            reason: "dashboards down for maintenance".into(),
            then_plan: 1
        }]
    );
    assert_eq!(app.popup, Some(Popup::Plan(1)), "then the plan, as usual");
    assert_eq!(
        press(&mut app, &[KeyCode::Char('y')]),
        vec![Effect::StartRun(1)]
    );

    // Everything ticked: the plan at once.
    let mut app = gameday();
    let session = &mut app.gameday.as_mut().unwrap().session;
    session.checklist[1].ticked_by = Some("bo".into());
    press(&mut app, &[KeyCode::Char('s')]);
    assert_eq!(app.popup, Some(Popup::Plan(1)));
    // An override recorded earlier opens the gate too.
    let mut app = gameday();
    app.gameday.as_mut().unwrap().session.go_override = Some(chaosdeck::gameday::Override {
        by: "ana".into(),
        at: "t".into(),
        reason: "r".into(),
    });
    press(&mut app, &[KeyCode::Char('s')]);
    assert_eq!(app.popup, Some(Popup::Plan(1)));
}

#[test]
fn the_editor_opens_saves_and_cancels() {
    let mut app = gameday();
    press(&mut app, &[KeyCode::Char('o')]);
    assert_eq!(app.popup, Some(Popup::Editor));
    // Keys that mean something elsewhere are typed here: q, a, s, n.
    type_text(&mut app, "qasn");
    assert!(app.draft_changed, "typing marks the draft for saving");
    assert_eq!(app.editor.as_ref().unwrap().text(), "qasn");
    assert_eq!(press(&mut app, &[KeyCode::Esc]), vec![Effect::DiscardDraft]);
    assert_eq!(app.popup, None);
    assert!(app.editor.is_none());

    press(&mut app, &[KeyCode::Char('o')]);
    assert_eq!(app.editor.as_ref().unwrap().text(), "", "a fresh editor");
    type_text(&mut app, "p99 doubled");
    assert_eq!(
        press_event(&mut app, ctrl('s')),
        Some(Effect::SaveNote {
            tag: Tag::Observation,
            text: "p99 doubled".into(),
            action: None,
            moment: None,
        })
    );
    assert_eq!(app.popup, None);
    assert!(!app.draft_changed);

    // Ctrl-C in the editor cancels it rather than quitting.
    press(&mut app, &[KeyCode::Char('o')]);
    assert_eq!(press_event(&mut app, ctrl('c')), Some(Effect::DiscardDraft));
    // Nothing to save in an empty editor.
    press(&mut app, &[KeyCode::Char('o')]);
    assert!(press(&mut app, &[KeyCode::Enter]).is_empty());
    assert_eq!(app.popup, Some(Popup::Editor));
}

/// A note is about the moment its editor opened: typing that outlasts the activity keeps the
/// note with the activity that was running when someone spoke up.
#[test]
fn a_note_keeps_the_moment_its_editor_opened() {
    use chaosdeck::engine::{Event, Phase};
    use chaosdeck::tui::gameday::Moment;
    use std::time::Duration;
    let (mut app, now) = running();
    tui_fixtures::with_session(&mut app);
    let run = app.run.as_mut().unwrap();
    let tail = tui_fixtures::activity(Phase::Method, 2, "api-log-tail", "probe");
    run.apply(Event::ActivityStarted(tail), now);
    press(&mut app, &[KeyCode::Char('o')]);
    app.fix_note_moment(now + Duration::from_secs(1));
    let later = tui_fixtures::activity(Phase::Method, 3, "start-database", "action");
    let run = app.run.as_mut().unwrap();
    run.apply(Event::ActivityStarted(later), now + Duration::from_secs(30));
    // A second call changes nothing: the moment is fixed once.
    app.fix_note_moment(now + Duration::from_secs(30));
    type_text(&mut app, "logs say connection refused");
    assert_eq!(
        press_event(&mut app, ctrl('s')),
        Some(Effect::SaveNote {
            tag: Tag::Observation,
            text: "logs say connection refused".into(),
            action: None,
            moment: Some(Moment {
                clock: Duration::from_secs(8),
                activity: Some("api-log-tail".into()),
            }),
        })
    );
}

#[test]
fn the_tag_cycles_and_an_action_item_needs_owner_and_due_date() {
    let mut app = gameday();
    press(&mut app, &[KeyCode::Char('o')]);
    let tag = |app: &App| app.editor.as_ref().unwrap().tag;
    let mut seen = vec![tag(&app)];
    for _ in 0..5 {
        press_event(&mut app, ctrl('t'));
        seen.push(tag(&app));
    }
    assert_eq!(
        seen,
        vec![
            Tag::Observation,
            Tag::Decision,
            Tag::Question,
            Tag::IssueFound,
            Tag::ActionItem,
            Tag::Observation
        ]
    );
    for _ in 0..4 {
        press_event(&mut app, ctrl('t'));
    }
    assert_eq!(tag(&app), Tag::ActionItem);
    type_text(&mut app, "page on database loss");
    assert!(press(&mut app, &[KeyCode::Enter]).is_empty(), "no due date");
    let error = app.editor.as_ref().unwrap().error.clone().unwrap();
    assert!(error.contains("YYYY-MM-DD"), "{error}");
    // Tab: the owner (ana by default), then the due date.
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
    type_text(&mut app, "next friday");
    assert!(press(&mut app, &[KeyCode::Enter]).is_empty(), "not a date");
    for _ in 0.."next friday".len() {
        press(&mut app, &[KeyCode::Backspace]);
    }
    type_text(&mut app, "2026-12-18");
    assert_eq!(
        press(&mut app, &[KeyCode::Enter]),
        vec![Effect::SaveNote {
            tag: Tag::ActionItem,
            text: "page on database loss".into(),
            moment: None,
            action: Some(("ana".into(), "2026-12-18".into()))
        }]
    );
    // A prediction or an override has no tag to cycle.
    let mut app = gameday();
    app.open_editor(Purpose::Prediction("db".into()));
    assert_eq!(
        action_for(ctrl('t'), &app.contexts()),
        Some(Action::Type(ctrl('t')))
    );
}

#[test]
fn a_kept_draft_opens_with_its_editor() {
    let mut app = gameday();
    app.gameday.as_mut().unwrap().draft = Some(chaosdeck::gameday::Draft {
        purpose: "note".into(),
        experiment: None,
        tag: Tag::Question,
        text: "why did the pager stay quiet".into(),
        owner: String::new(),
        due: String::new(),
        saved_at: "t".into(),
    });
    // A prediction's editor does not take a note's draft.
    press(&mut app, &[KeyCode::Char('c'), KeyCode::Char('w')]);
    assert_eq!(app.editor.as_ref().unwrap().text(), "");
    assert_eq!(
        app.editor.as_ref().unwrap().purpose,
        Purpose::Prediction("db".into())
    );
    press(&mut app, &[KeyCode::Esc]);
    press(&mut app, &[KeyCode::Char('o')]);
    let editor = app.editor.as_ref().unwrap();
    assert_eq!(editor.text(), "why did the pager stay quiet");
    assert_eq!(editor.tag, Tag::Question);
}

#[test]
fn gameday_keys_only_where_they_apply() {
    // Outside a session: no note, no checklist, no export; g lists the plans when idle.
    let mut app = idle();
    assert!(press(
        &mut app,
        &[KeyCode::Char('o'), KeyCode::Char('c'), KeyCode::Char('e')]
    )
    .is_empty());
    assert_eq!(app.popup, None);
    assert_eq!(
        press(&mut app, &[KeyCode::Char('g')]),
        vec![Effect::OpenGamedays]
    );
    let (mut app, _) = running();
    assert!(
        press(&mut app, &[KeyCode::Char('g')]).is_empty(),
        "not during a run"
    );
    // During a run in a session, o writes a note.
    tui_fixtures::with_session(&mut app);
    press(&mut app, &[KeyCode::Char('o')]);
    assert_eq!(app.popup, Some(Popup::Editor));
    assert_eq!(app.editor.as_ref().unwrap().purpose, Purpose::Note);
    assert!(press(&mut gameday(), &[KeyCode::Char('e')]) == vec![Effect::Export]);
}

#[test]
fn every_hint_shown_is_a_key_that_works_there() {
    let mut states = vec![idle(), gameday(), running().0];
    let mut s = gameday();
    s.popup = Some(Popup::Session);
    states.push(s);
    let mut s = gameday();
    s.open_editor(Purpose::Note);
    states.push(s);
    let mut s = gameday();
    s.open_editor(Purpose::Override(1));
    states.push(s);
    for app in states {
        let contexts = app.contexts();
        for b in chaosdeck::tui::keys::hints(&contexts) {
            let modifiers = if b.ctrl {
                KeyModifiers::CONTROL
            } else {
                KeyModifiers::NONE
            };
            let got = action_for(KeyEvent::new(b.keys[0], modifiers), &contexts);
            assert_eq!(got, Some(b.action), "{} in {contexts:?}", b.shown);
        }
    }
}

/// A skipped activity keeps its place in the timeline, marked skipped, and the hold is over.
#[test]
fn a_skipped_activity_shows_in_the_timeline() {
    use chaosdeck::engine::{Event, Phase};
    let (mut app, now) = running();
    let tail = tui_fixtures::activity(Phase::Method, 2, "api-log-tail", "probe");
    let run = app.run.as_mut().unwrap();
    run.apply(
        Event::Held {
            next: Some(tail.clone()),
        },
        now,
    );
    assert!(app.held());
    assert_eq!(
        press(&mut app, &[KeyCode::Char('x')]),
        vec![Effect::Control(Control::Skip)]
    );
    app.run.as_mut().unwrap().apply(Event::Skipped(tail), now);
    assert!(!app.held());
    let s = tui_fixtures::screen(&app, now, 120, 40);
    let row = s
        .lines()
        .find(|l| l.contains("api-log-tail"))
        .unwrap_or_else(|| panic!("the skipped activity is on screen:\n{s}"));
    assert!(row.contains("skipped") && row.contains("·"), "{row}");
}

/// Tab into the owner field selects the default owner, so typing a name replaces it.
#[test]
fn typing_an_owner_replaces_the_default() {
    let mut app = tui_fixtures::gameday();
    press(&mut app, &[KeyCode::Char('o')]);
    for _ in 0..4 {
        press_event(&mut app, ctrl('t'));
    }
    type_text(&mut app, "page on database loss");
    press(&mut app, &[KeyCode::Tab]);
    type_text(&mut app, "cy");
    press(&mut app, &[KeyCode::Tab]);
    type_text(&mut app, "2026-12-18");
    assert_eq!(
        press(&mut app, &[KeyCode::Enter]),
        vec![Effect::SaveNote {
            tag: Tag::ActionItem,
            text: "page on database loss".into(),
            moment: None,
            action: Some(("cy".into(), "2026-12-18".into()))
        }]
    );
}

/// `x` is offered in the hint bar exactly while the run holds, which is when it works.
#[test]
fn the_skip_hint_shows_while_held() {
    use chaosdeck::engine::{Event, Phase};
    let (mut app, now) = running();
    let shown = |app: &App| {
        chaosdeck::tui::keys::hints(&app.contexts())
            .map(|b| b.shown)
            .collect::<Vec<_>>()
    };
    assert!(!shown(&app).contains(&"x"));
    let next = tui_fixtures::activity(Phase::Method, 2, "api-log-tail", "probe");
    let run = app.run.as_mut().unwrap();
    run.apply(Event::Held { next: Some(next) }, now);
    assert!(shown(&app).contains(&"x"), "{:?}", shown(&app));
    assert_eq!(
        press(&mut app, &[KeyCode::Char('x')]),
        vec![Effect::Control(Control::Skip)]
    );
}
