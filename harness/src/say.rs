//! Lines for a person at a terminal: colour when stdout is one (and `NO_COLOR` is not
//! set), plain otherwise, and a quiet end when the reader has gone (`netspec run | head`).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};

/// 0: not decided yet, 1: plain, 2: colour.
static COLOR: AtomicU8 = AtomicU8::new(0);

/// The exit status when stdout closes under us: 128 + SIGPIPE, as a shell reports it.
pub const BROKEN_PIPE_EXIT: i32 = 141;

/// `auto` (the default): colour on a terminal, or anywhere with `CLICOLOR_FORCE` set
/// (not to 0); never with `NO_COLOR` set, which wins.
pub fn set_color(choice: Option<bool>) {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let forced = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
    let on =
        choice.unwrap_or_else(|| !set("NO_COLOR") && (forced || std::io::stdout().is_terminal()));
    COLOR.store(if on { 2 } else { 1 }, Ordering::Relaxed);
}

fn color() -> bool {
    if COLOR.load(Ordering::Relaxed) == 0 {
        set_color(None);
    }
    COLOR.load(Ordering::Relaxed) == 2
}

/// `text` in an ANSI colour (31 red, 32 green, 33 yellow, 1 bold) when colour is on.
pub fn paint(code: &str, text: &str) -> String {
    if color() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Prints a line; if the reader is gone, ends the process at once, quietly. Nothing of
/// a run survives that: its namespaces are anonymous and its commands die with it.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        std::process::exit(BROKEN_PIPE_EXIT);
    }
}
