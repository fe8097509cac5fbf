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
