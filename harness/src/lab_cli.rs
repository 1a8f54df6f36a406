//! The command line of `netspec up`, `shell`, `exec` and `down` (see `netspec::lab`).

use std::path::Path;
use std::process::ExitCode;

use netspec::lab;
use netspec::say;

use super::usage_error;

/// `netspec up FILE [--lab NAME]`.
pub(crate) fn up(file: &Path, name: Option<String>) -> ExitCode {
    let sc = match netspec::load_file(file.parent().unwrap_or(Path::new(".")), file) {
        Ok(sc) => sc,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let name = name.unwrap_or_else(|| lab::lab_name(file));
    if !lab::valid_lab(&name) {
        return usage_error(&format!(
            "`{name}` is not a lab name: use 1 to 32 letters, digits, `-` and `_`"
        ));
    }
    match lab::up(&sc, &name) {
        Ok(pins) => {
            say::line(&format!("lab {name} is up: {} nodes", pins.len()));
            for (node, pin) in &pins {
                say::line(&format!(
                    "  netspec shell --lab {name} {node}    # or: ip netns exec {} bash",
                    pin.file_name().unwrap_or_default().to_string_lossy()
                ));
            }
            if sc.nodes.iter().any(|n| !n.cni.is_empty()) {
                say::line("  (its CNI attachments were not made: `up` builds the topology only)");
            }
            say::line(&format!("  netspec down {name}    # removes it"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: netspec up: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `netspec shell NODE` and `netspec exec NODE -- CMD...`: only returns on failure.
pub(crate) fn enter(node: &str, lab_name: Option<&str>, cmd: Vec<String>) -> ExitCode {
    let pin = match lab::find(node, lab_name) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let argv = if cmd.is_empty() {
        vec![std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into())]
    } else {
        cmd
    };
    let e = lab::enter(&pin, &argv);
    eprintln!("error: {e}");
    ExitCode::from(126)
}

/// `netspec down [LAB]`.
pub(crate) fn down(name: Option<&str>) -> ExitCode {
    match lab::down(name) {
        Ok(removed) if removed.is_empty() => {
            say::line(&match name {
                Some(n) => format!("lab {n} is not up"),
                None => "no lab is up".into(),
            });
            ExitCode::SUCCESS
        }
        Ok(removed) => {
            for p in &removed {
                say::line(&format!("removed {}", p.display()));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: netspec down: {e}");
            ExitCode::FAILURE
        }
    }
}
