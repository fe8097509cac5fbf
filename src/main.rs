//! The chaosdeck command line: wiring only.

use chaosdeck::demo::cli::{run_service, DemoServiceArgs};
use chaosdeck::demo::launch::DemoArgs;
use chaosdeck::engine::StepMode;
use chaosdeck::gameday::store::Store;
use chaosdeck::gameday::Tag;
use chaosdeck::headless::gameday as gd;
use chaosdeck::headless::recover::{recover, RecoverRequest};
use chaosdeck::headless::run::{print_findings, run, RunRequest};
use chaosdeck::headless::run_all::{run_all, RunAllRequest};
use chaosdeck::headless::{prepare, PrepareOptions, RunFlags};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "chaosdeck",
    version,
    about = "Run Chaos Toolkit experiments for GameDays"
)]
struct Cli {
    /// More detail in the log.
    #[arg(long, global = true)]
    verbose: bool,
    /// Accepted for Chaos Toolkit compatibility; chaosdeck never checks for new versions.
    #[arg(long, global = true)]
    no_version_check: bool,
    /// A Chaos Toolkit settings file (its runtime strategies are read).
    #[arg(long, global = true, value_name = "PATH")]
    settings: Option<PathBuf>,
    /// The experiments folder the TUI opens (when no command is given).
    #[arg(long, default_value = "./experiments", value_name = "DIR")]
    experiments: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// GameDay sessions: `chaosdeck gameday PLAN` opens the TUI on today's session of a plan;
    /// the subcommands do the same from scripts.
    Gameday(GamedayArgs),
    /// Export a GameDay session: Markdown notes, a JSON bundle or Prometheus metrics.
    Export {
        session: String,
        /// md, json or prom.
        #[arg(long, default_value = "md")]
        format: String,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Success rate and mean time to recover of every session, against the targets.
    Report,
    /// Run one experiment headless and write its journal.
    Run {
        /// Experiment file (.yaml, .yml, .json) or http(s) URL.
        experiment: String,
        #[command(flatten)]
        common: Common,
        /// Where the journal goes.
        #[arg(long, default_value = "./journal.json", value_name = "PATH")]
        journal_path: PathBuf,
        /// Exit with Chaos Toolkit's codes (0 for completed and not deviated) instead of the
        /// verdict's.
        #[arg(long)]
        ctk_exit_code: bool,
        /// Write the run's events as NDJSON to this file.
        #[arg(long, value_name = "PATH")]
        events_file: Option<PathBuf>,
        /// Hold before each method activity (and once before the rollbacks) and ask.
        #[arg(long, conflicts_with = "step_actions")]
        step: bool,
        /// Hold before each method action only (and before the rollbacks) and ask.
        #[arg(long)]
        step_actions: bool,
    },
    /// List runs that ended owing rollbacks and play them.
    Recover {
        /// Play every owed rollback without asking.
        #[arg(long)]
        all: bool,
        /// The same as --all, for scripts.
        #[arg(long)]
        yes: bool,
        /// Only these runs (ids as listed).
        ids: Vec<String>,
        /// Configuration and secrets to read again, as for `run`.
        #[arg(long = "var-file", value_name = "PATH")]
        var_files: Vec<PathBuf>,
    },
    /// Run every experiment of folders or files, each with its journal in the reports folder.
    RunAll {
        /// Folders and files of experiments.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Run only the experiment with this name (its file name without extension).
        #[arg(long)]
        only: Option<String>,
        #[arg(long, default_value = "./reports", value_name = "DIR")]
        reports_dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Check experiments without running them.
    Validate {
        #[arg(required = true)]
        files: Vec<String>,
        /// Do not ask the Docker engine whether the docker targets exist (for experiments whose
        /// system is not up).
        #[arg(long)]
        skip_targets: bool,
        #[arg(long = "var", value_name = "KEY[:TYPE]=VALUE", value_parser = var_arg)]
        vars: Vec<String>,
        #[arg(long = "var-file", value_name = "PATH")]
        var_files: Vec<PathBuf>,
    },
    /// Serve Toxiproxy's HTTP API with a TCP fault proxy of chaosdeck's own.
    Proxy {
        /// Address of the API.
        #[arg(long, default_value = chaosdeck::proxy::DEFAULT_LISTEN, value_name = "ADDR")]
        listen: String,
    },
    /// Start the demo system (containers, or processes on loopback) and open the TUI on a demo
    /// GameDay; everything it started is removed when it ends.
    Demo(DemoArgs),
    /// Run one service of the demo system (the command of the demo containers).
    #[command(hide = true)]
    DemoService(DemoServiceArgs),
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct GamedayArgs {
    #[command(subcommand)]
    action: Option<GamedayCommand>,
    /// A GameDay plan (gamedays/*.yaml): open the TUI on its session for the date, started or
    /// resumed.
    plan: Option<PathBuf>,
    /// The session's date (default today).
    #[arg(long)]
    date: Option<String>,
    /// Who ticks the checklist and writes notes (default the plan's facilitator, else $USER).
    #[arg(long = "as", visible_alias = "facilitator", value_name = "NAME")]
    who: Option<String>,
}

#[derive(Subcommand)]
enum GamedayCommand {
    /// Start a session of a plan (or resume today's); prints its id.
    Start {
        plan: PathBuf,
        /// The session's date (default today).
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        facilitator: Option<String>,
    },
    /// The sessions there are.
    List,
    /// Tick a checklist item: before.1, during.2 … or the start of its text.
    Tick {
        session: String,
        item: String,
        #[arg(long)]
        by: String,
    },
    /// Allow runs before the "before" items are all ticked, recording why.
    Override {
        session: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Write down what you expect an experiment to show, before it runs.
    Predict {
        session: String,
        experiment: String,
        #[arg(long)]
        author: String,
        text: String,
    },
    /// Run one of the plan's experiments (by name), with the recovery check.
    Run {
        session: String,
        experiment: String,
        #[command(flatten)]
        common: Common,
    },
    /// Note an observation, stamped on the clock of the run in progress.
    Note {
        session: String,
        #[arg(long)]
        author: String,
        /// observation, decision, question, issue-found or action-item.
        #[arg(long, default_value = "observation")]
        tag: String,
        text: String,
    },
    /// Record an action item.
    Action {
        session: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        due: String,
        /// It is an issue the GameDay found.
        #[arg(long)]
        issue: bool,
        text: String,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// Override a configuration value: key=value or key:type=value (str, int, float, bytes,
    /// bool, json).
    #[arg(long = "var", value_name = "KEY[:TYPE]=VALUE", value_parser = var_arg)]
    vars: Vec<String>,
    /// Configuration and secrets from a .yaml/.json file, or KEY=VALUE lines for the environment.
    #[arg(long = "var-file", value_name = "PATH")]
    var_files: Vec<PathBuf>,
    /// Do not validate the experiment before running it.
    #[arg(long)]
    no_validation: bool,
    /// Do not verify TLS when downloading the experiment.
    #[arg(long)]
    no_verify_tls: bool,
    /// default, before-method-only, after-method-only, during-method-only or continuously.
    #[arg(long, value_name = "STRATEGY")]
    hypothesis_strategy: Option<String>,
    /// Seconds between checks of the hypothesis during the method.
    #[arg(long, value_name = "SECONDS")]
    hypothesis_frequency: Option<f64>,
    /// Stop the method as soon as the hypothesis fails during it.
    #[arg(long)]
    fail_fast: bool,
    /// safe (chaosdeck's default), default, always, never or deviated.
    #[arg(long, value_name = "STRATEGY")]
    rollback_strategy: Option<String>,
    /// Do not execute: probes, actions, activities, or pause (skip pauses only).
    #[arg(long, value_name = "MODE")]
    dry: Option<String>,
    /// Abort with rollback once the run has lasted this many seconds.
    #[arg(long, value_name = "SECONDS")]
    max_duration: Option<f64>,
    /// Timeout of a rollback activity that sets none (default 60).
    #[arg(long, value_name = "SECONDS")]
    rollback_timeout: Option<f64>,
    /// After the rollbacks, check the steady state again until it holds; the moment it does is
    /// the recovery, recorded in the journal.
    #[arg(long)]
    recovery: bool,
    /// Seconds between recovery checks.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    recovery_interval: f64,
    /// Seconds after which the system counts as not recovered.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    recovery_limit: f64,
}

impl Common {
    fn prepare(&self) -> PrepareOptions {
        PrepareOptions {
            vars: self.vars.clone(),
            var_files: self.var_files.clone(),
            no_validation: self.no_validation,
            no_verify_tls: self.no_verify_tls,
            skip_targets: false,
        }
    }

    fn flags(&self, settings: Option<PathBuf>) -> RunFlags {
        RunFlags {
            hypothesis_strategy: self.hypothesis_strategy.clone(),
            hypothesis_frequency: self.hypothesis_frequency,
            fail_fast: self.fail_fast,
            rollback_strategy: self.rollback_strategy.clone(),
            dry: self.dry.clone(),
            settings,
            max_duration: self.max_duration,
            rollback_timeout: self.rollback_timeout,
            recovery: self
                .recovery
                .then_some((self.recovery_interval, self.recovery_limit)),
        }
    }
}

/// Checks a `--var` at parse time, so a malformed one is a usage error (exit 2).
fn var_arg(spec: &str) -> Result<String, String> {
    chaosdeck::experiment::config::parse_var(spec).map(|_| spec.to_string())
}

/// Runs `f` on the session store, printing its error.
fn with_store(f: impl FnOnce(&Store) -> Result<(), String>) -> i32 {
    match Store::default_store()
        .map_err(|e| e.to_string())
        .and_then(|s| f(&s))
    {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn gameday(action: GamedayCommand, settings: Option<PathBuf>) -> i32 {
    let store = match Store::default_store() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let done = |r: Result<(), String>| match r {
        Ok(()) => 0,
        // Some messages (a plan's errors, one per line) say "error:" already.
        Err(e) if e.starts_with("error:") => {
            eprintln!("{e}");
            1
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    match action {
        GamedayCommand::Start {
            plan,
            date,
            facilitator,
        } => done(gd::start(&store, &plan, date, facilitator).map(|s| println!("{}", s.id))),
        GamedayCommand::List => {
            gd::list(&store, &mut std::io::stdout());
            0
        }
        GamedayCommand::Tick { session, item, by } => {
            done(gd::tick(&store, &session, &item, &by).map(|m| eprintln!("{m}")))
        }
        GamedayCommand::Override {
            session,
            by,
            reason,
        } => done(gd::override_checklist(&store, &session, &by, &reason)),
        GamedayCommand::Predict {
            session,
            experiment,
            author,
            text,
        } => done(gd::predict(&store, &session, &experiment, &author, &text)),
        GamedayCommand::Note {
            session,
            author,
            tag,
            text,
        } => match Tag::parse(&tag) {
            Some(tag) => done(gd::note(&store, &session, &author, tag, &text)),
            None => {
                eprintln!("error: unknown tag '{tag}' (observation, decision, question, issue-found, action-item)");
                2
            }
        },
        GamedayCommand::Action {
            session,
            owner,
            due,
            issue,
            text,
        } => done(gd::action(&store, &session, &owner, &due, issue, &text)),
        GamedayCommand::Run {
            session,
            experiment,
            common,
        } => {
            let request = RunRequest {
                spec: String::new(),
                prepare: common.prepare(),
                flags: common.flags(settings),
                journal_path: PathBuf::new(),
                ctk_exit_code: false,
                events_file: None,
                step: StepMode::Off,
            };
            match gd::run(&store, &session, &experiment, request).await {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
    }
}

async fn validate_files(files: Vec<String>, opts: PrepareOptions) -> i32 {
    let mut failed = 0;
    let mut err = std::io::stderr();
    for file in &files {
        match prepare(file, &opts).await {
            Ok((_, findings)) => {
                print_findings(&findings, &mut err);
                println!("{file}: valid");
            }
            Err(findings) => {
                print_findings(&findings, &mut err);
                println!("{file}: {} error(s)", findings.errors.len());
                failed += 1;
            }
        }
    }
    i32::from(failed > 0)
}

/// The TUI's log file, `<data dir>/chaosdeck.log`.
fn tui_log_file() -> Option<std::fs::File> {
    let dir = chaosdeck::engine::ledger::data_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("chaosdeck.log"))
        .ok()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli.no_version_check;
    let level = if cli.verbose { "debug" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHAOSDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let logger = tracing_subscriber::fmt().with_env_filter(filter);
    // The TUI owns the screen, so its log goes to a file in the data directory.
    let tui = match &cli.command {
        None => true,
        Some(Command::Gameday(args)) => args.action.is_none() && args.plan.is_some(),
        Some(Command::Demo(args)) => args.uses_tui(),
        Some(_) => false,
    };
    let _ = match tui.then(tui_log_file).flatten() {
        Some(file) => logger
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init(),
        None => logger.with_writer(std::io::stderr).try_init(),
    };
    // One thread: the engine's tasks hand events to each other without waking other threads,
    // which is most of what a run costs besides the activities themselves.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let settings = cli.settings.clone();
    let code = runtime.block_on(async move {
        match cli.command {
            Some(Command::Run {
                experiment,
                common,
                journal_path,
                ctk_exit_code,
                events_file,
                step,
                step_actions,
            }) => {
                let step = match (step, step_actions) {
                    (true, _) => StepMode::EachActivity,
                    (_, true) => StepMode::EachAction,
                    _ => StepMode::Off,
                };
                run(RunRequest {
                    spec: experiment,
                    prepare: common.prepare(),
                    flags: common.flags(settings),
                    journal_path,
                    ctk_exit_code,
                    events_file,
                    step,
                })
                .await
            }
            Some(Command::Recover {
                all,
                yes,
                ids,
                var_files,
            }) => {
                recover(RecoverRequest {
                    yes: all || yes,
                    ids,
                    data_dir: None,
                    var_files,
                })
                .await
            }
            Some(Command::RunAll {
                inputs,
                only,
                reports_dir,
                common,
            }) => {
                run_all(RunAllRequest {
                    inputs,
                    only,
                    reports_dir,
                    prepare: common.prepare(),
                    flags: common.flags(settings),
                })
                .await
            }
            Some(Command::Validate {
                files,
                skip_targets,
                vars,
                var_files,
            }) => {
                validate_files(
                    files,
                    PrepareOptions {
                        vars,
                        var_files,
                        skip_targets,
                        ..PrepareOptions::default()
                    },
                )
                .await
            }
            Some(Command::Proxy { listen }) => chaosdeck::proxy::api::run(&listen).await,
            Some(Command::DemoService(args)) => run_service(args).await,
            Some(Command::Gameday(GamedayArgs {
                action: Some(action),
                ..
            })) => gameday(action, settings).await,
            Some(Command::Gameday(GamedayArgs {
                plan: Some(plan),
                date,
                who,
                ..
            })) => {
                let options = chaosdeck::tui::TuiOptions {
                    folder: cli.experiments,
                    plan: None,
                    date,
                    who,
                    health: None,
                };
                chaosdeck::tui::run_gameday(plan, options).await
            }
            Some(Command::Gameday(_)) => {
                eprintln!(
                    "error: give a plan (chaosdeck gameday gamedays/monthly.yaml) or a \
                     subcommand (chaosdeck gameday --help lists them)"
                );
                2
            }
            Some(Command::Demo(args)) => chaosdeck::demo::launch::run(args).await,
            Some(Command::Export {
                session,
                format,
                output,
            }) => with_store(|store| gd::export(store, &session, &format, output)),
            Some(Command::Report) => with_store(|store| {
                gd::report(store, &mut std::io::stdout());
                Ok(())
            }),
            None => chaosdeck::tui::run(cli.experiments).await,
        }
    });
    // Background tasks (a hung child's reader, say) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::from(code.clamp(0, 255) as u8)
}
