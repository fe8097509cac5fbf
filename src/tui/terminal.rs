//! Taking the terminal and giving it back: raw mode and the alternate screen on entry, restored
//! by a guard on every exit path and by the panic hook before the panic is reported.

use crossterm::{cursor, execute, terminal};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::Stdout;

/// The terminal while the TUI owns it; dropping it restores the terminal.
pub struct Guard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Guard {
    /// Enters raw mode and the alternate screen, and installs the panic hook.
    pub fn enter() -> std::io::Result<Guard> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        let mut out = std::io::stdout();
        // Cleared on entry: some terminals keep what an earlier program left on the alternate
        // screen, and the first frame only writes the cells it draws.
        let entered = execute!(
            out,
            terminal::EnterAlternateScreen,
            terminal::Clear(terminal::ClearType::All),
            cursor::Hide
        );
        if let Err(e) = entered {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(Guard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen and raw mode; harmless when already restored.
pub fn restore() {
    let _ = execute!(
        std::io::stdout(),
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
}

/// Restores the terminal first, then lets the previous hook report the panic on a sane screen.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
