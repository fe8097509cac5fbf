//! Hypothesis and rollback strategies, dry modes: Chaos Toolkit's by name and meaning, plus
//! chaosdeck's own rollback strategy `safe`, the default.

use std::fmt;
use std::str::FromStr;

/// When the steady-state hypothesis is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HypothesisStrategy {
    #[default]
    Default,
    BeforeMethodOnly,
    AfterMethodOnly,
    DuringMethodOnly,
    Continuously,
    /// Library-only: no hypothesis at all (reachable from a document's `runtime`).
    Skip,
}

impl HypothesisStrategy {
    pub fn before(self) -> bool {
        matches!(
            self,
            Self::Default | Self::BeforeMethodOnly | Self::Continuously
        )
    }
    pub fn after(self) -> bool {
        matches!(
            self,
            Self::Default | Self::AfterMethodOnly | Self::Continuously
        )
    }
    pub fn during(self) -> bool {
        matches!(self, Self::DuringMethodOnly | Self::Continuously)
    }
}

impl FromStr for HypothesisStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "default" => Self::Default,
            "before-method-only" => Self::BeforeMethodOnly,
            "after-method-only" => Self::AfterMethodOnly,
            "during-method-only" => Self::DuringMethodOnly,
            "continuously" | "continously" => Self::Continuously,
            "skip" => Self::Skip,
            other => {
                return Err(format!(
                    "unknown hypothesis strategy '{other}' (default, before-method-only, \
                     after-method-only, during-method-only, continuously)"
                ))
            }
        })
    }
}

impl fmt::Display for HypothesisStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::BeforeMethodOnly => "before-method-only",
            Self::AfterMethodOnly => "after-method-only",
            Self::DuringMethodOnly => "during-method-only",
            Self::Continuously => "continuously",
            Self::Skip => "skip",
        })
    }
}

/// Whether the rollbacks play.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RollbackStrategy {
    /// chaosdeck's default: play whenever a method activity started, whatever the status.
    #[default]
    Safe,
    /// Chaos Toolkit's default: play unless the status is `failed` or `interrupted`.
    Default,
    Always,
    Never,
    /// Only when the run deviated.
    Deviated,
    /// Any other name: Chaos Toolkit plays nothing.
    Unknown(String),
}

impl RollbackStrategy {
    /// Decides from the final status, `deviated` and whether the method began.
    pub fn plays(&self, status: &str, deviated: bool, method_started: bool) -> bool {
        match self {
            Self::Safe => method_started,
            Self::Default => !matches!(status, "failed" | "interrupted"),
            Self::Always => true,
            Self::Never | Self::Unknown(_) => false,
            Self::Deviated => deviated,
        }
    }
}

impl FromStr for RollbackStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "safe" => Self::Safe,
            "default" => Self::Default,
            "always" => Self::Always,
            "never" => Self::Never,
            "deviated" => Self::Deviated,
            other => Self::Unknown(other.to_string()),
        })
    }
}

impl fmt::Display for RollbackStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Safe => f.write_str("safe"),
            Self::Default => f.write_str("default"),
            Self::Always => f.write_str("always"),
            Self::Never => f.write_str("never"),
            Self::Deviated => f.write_str("deviated"),
            Self::Unknown(s) => f.write_str(s),
        }
    }
}

/// `--dry`: what is not executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryMode {
    Probes,
    Actions,
    Activities,
    Pause,
}

impl DryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Probes => "probes",
            Self::Actions => "actions",
            Self::Activities => "activities",
            Self::Pause => "pause",
        }
    }

    /// Whether an activity of this type is not executed.
    pub fn skips(self, activity_type: &str) -> bool {
        match self {
            Self::Probes => activity_type == "probe",
            Self::Actions => activity_type == "action",
            Self::Activities => true,
            Self::Pause => false,
        }
    }
}

impl FromStr for DryMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "probes" => Self::Probes,
            "actions" => Self::Actions,
            "activities" => Self::Activities,
            "pause" => Self::Pause,
            other => {
                return Err(format!(
                    "unknown dry mode '{other}' (probes, actions, activities, pause)"
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ctk-reference §5, rollback strategies.
    #[test]
    fn rollback_strategies_decide_as_documented() {
        let d = RollbackStrategy::Default;
        assert!(d.plays("completed", false, true));
        assert!(d.plays("aborted", false, true));
        assert!(!d.plays("failed", false, true));
        assert!(!d.plays("interrupted", false, true));
        assert!(RollbackStrategy::Always.plays("interrupted", false, false));
        assert!(!RollbackStrategy::Never.plays("completed", false, true));
        assert!(RollbackStrategy::Deviated.plays("completed", true, true));
        assert!(!RollbackStrategy::Deviated.plays("completed", false, true));
        assert!(!"bogus"
            .parse::<RollbackStrategy>()
            .unwrap()
            .plays("completed", true, true));
        assert!(RollbackStrategy::Safe.plays("interrupted", false, true));
        assert!(!RollbackStrategy::Safe.plays("completed", false, false));
    }

    #[test]
    fn legacy_spelling_is_accepted() {
        assert_eq!(
            "continously".parse::<HypothesisStrategy>().unwrap(),
            HypothesisStrategy::Continuously
        );
    }
}
