//! The `netspec` command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod lab_cli;

use clap::{Parser, Subcommand, ValueEnum};
use netspec::formats::{junit, ScenarioResult};
use netspec::say::{self, paint};
use netspec::{load_variants, run_checked, Outcome, RunOptions};

const EXIT_CODES: &str = "Exit status: (one scheme for run, test, explore, check and the rest)
  0   every scenario passed (explore: the kernel agreed with the model everywhere)
  1   a scenario failed, was invalid, or could not run (no privileges); test: a trial failed
  2   usage error: unknown command or flag, missing file, empty directory
  77  run: nothing failed, but a scenario was skipped (a kernel feature or tool is
      missing); --allow-skip makes that 0, for CI systems that fail on any other code
  141 stdout was closed (`netspec run ... | head`): the run ended there, quietly
  (test, as cargo test: 0 with skipped trials, which it lists as ignored)";

#[derive(Parser)]
#[command(
    name = "netspec",
    version,
    about = "Test Linux networking with YAML scenarios built in fresh network namespaces",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Colour the output: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    /// Each step's verdict as it finishes, then a summary.
    Human,
    /// JSON Lines: one object per step, then one per scenario.
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Mermaid: GitHub draws it in Markdown.
    Mermaid,
    /// Graphviz: `netspec graph --format dot F | dot -Tsvg > t.svg`.
    Dot,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VmAccel {
    /// KVM where it runs an ordinary kernel, else TCG (said on stderr).
    Auto,
    Kvm,
    Tcg,
}

const VM_HELP: &str = "Exit status: the inner command's, or 3 when the VM could not run it
(no QEMU or busybox-static, a kernel that panics or does not boot in time); the message says why.

Prepare a kernel from packages: tools/kernel-from-packages linux-image-6.1.0-57-amd64
  netspec vm --kernel target/kernels/linux-image-6.1.0-57-amd64 -- run scenarios/seed/bridge.yaml";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Text,
    Markdown,
    /// JSON Lines: `scenario`, `file`, `description`.
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Text,
    /// JSON Lines: `scenario`, `file`, `verdict` (`ok` or `invalid`), `nodes` and
    /// `steps`, or `message` for a file that does not load.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (as root), printing each step's verdict.
    #[command(after_help = EXIT_CODES)]
    Run {
        #[arg(required = true, value_name = "SCENARIO.yaml")]
        files: Vec<PathBuf>,
        /// Also trace every ping and print the path it took.
        #[arg(short, long)]
        verbose: bool,
        /// Stop at the first scenario that fails.
        #[arg(long)]
        fail_fast: bool,
        #[arg(long, value_enum, default_value_t = RunFormat::Human)]
        format: RunFormat,
        /// Also write JUnit XML here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// At a failing step, keep the nodes, print how to enter them (`netspec shell`),
        /// and wait for Enter or Ctrl-C before tearing down.
        #[arg(long)]
        pause_on_failure: bool,
        /// Where failure reports go, as DIR/<scenario>/failure.txt (default:
        /// target/netspec under the project).
        #[arg(long, value_name = "DIR")]
        report_dir: Option<PathBuf>,
        /// Exit 0, not 77, when nothing failed but a scenario was skipped.
        #[arg(long)]
        allow_skip: bool,
    },
    /// Load and resolve scenarios only: no root needed.
    Check {
        #[arg(required = true, value_name = "SCENARIO.yaml")]
        files: Vec<PathBuf>,
        /// text, or json: one object per scenario (or per file that does not load).
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// List the scenarios under a directory, with their descriptions: no root needed.
    List {
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Run a directory of scenarios as a test suite; ARGS are libtest's (--exact, --list, ...).
    Test {
        dir: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Remove namespaces pinned by NETSPEC_KEEP=1 whose run has ended.
    Reap,
    /// Build a scenario's topology (as root) and keep it, to be entered by hand.
    Up {
        #[arg(value_name = "SCENARIO.yaml")]
        file: PathBuf,
        /// The lab's name (default: the file's name without .yaml).
        #[arg(long)]
        lab: Option<String>,
    },
    /// Open a shell ($SHELL, else /bin/sh) in a node of a lab that is up.
    Shell {
        node: String,
        /// The lab, when several have such a node.
        #[arg(long)]
        lab: Option<String>,
    },
    /// Run a command in a node of a lab that is up: `netspec exec NODE -- CMD ARGS...`.
    Exec {
        node: String,
        #[arg(long)]
        lab: Option<String>,
        #[arg(trailing_var_arg = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Remove a lab that `up` built (every lab, without a name).
    Down { lab: Option<String> },
    /// Print a picture of a scenario's topology: no root needed.
    Graph {
        #[arg(value_name = "SCENARIO.yaml")]
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Random topologies (as root), each run against an independent model of
    /// reachability; disagreements are shrunk and written out.
    Explore {
        /// The first seed; seed N always gives the same topology.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        count: u64,
        /// Nodes per topology, switches included.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(2..=12))]
        size: u64,
        /// Scenarios run at once (they wait mostly for the kernel's rtnl lock, not for a
        /// CPU, so more jobs than CPUs help).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=64))]
        jobs: u64,
        /// Where shrunk disagreements are written, one new file per seed.
        #[arg(long, default_value = "scenarios/explored")]
        out: PathBuf,
    },
    /// Boot another kernel in QEMU and run `netspec ARGS` inside it, in this folder
    /// (writable) on the machine's root (read-only); exits with the inner exit code.
    #[command(after_help = VM_HELP)]
    Vm {
        /// A kernel image, or a folder made by tools/kernel-from-packages.
        #[arg(long, value_name = "IMAGE|DIR")]
        kernel: PathBuf,
        /// The kernel's module folder (lib/modules/VERSION); a prepared folder has it.
        #[arg(long, value_name = "DIR")]
        modules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = VmAccel::Auto)]
        accel: VmAccel,
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
        cpus: u32,
        /// Guest memory in MiB.
        #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(256..=65536))]
        memory: u32,
        /// Seconds from QEMU's start to the command's start.
        #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
        boot_timeout: u64,
        /// Seconds from QEMU's start to the command's end.
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86400))]
        timeout: u64,
        /// One more kernel parameter (repeatable).
        #[arg(long, value_name = "PARAM")]
        append: Vec<String>,
        /// What netspec runs inside: run, test, explore, ... with their arguments.
        #[arg(last = true, required = true, value_name = "ARGS")]
        args: Vec<std::ffi::OsString>,
    },
    /// Print the JSON Schema of the scenario format (the repository keeps it as
    /// scenario.schema.json, for editors).
    Schema,
    /// Print a completion script for a shell: `netspec completions bash >
    /// /etc/bash_completion.d/netspec` (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff): `netspec man | man -l -`.
    Man,
}

fn main() -> ExitCode {
    // Before any thread exists: see enter_user_namespace_if_needed.
    netspec::enter_user_namespace_if_needed();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print and exit 0; a usage error exits 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    say::set_color(match cli.color {
        Color::Auto => None,
        Color::Always => Some(true),
        Color::Never => Some(false),
    });
    let files = match &cli.command {
        Command::Run { files, .. } | Command::Check { files, .. } => files.as_slice(),
        Command::Graph { file, .. } | Command::Up { file, .. } => std::slice::from_ref(file),
        _ => &[],
    };
    if let Some(f) = files.iter().find(|f| !f.is_file()) {
        return usage_error(&format!("no such scenario file: {}", f.display()));
    }
    dispatch(cli.command)
}

fn dispatch(command: Command) -> ExitCode {
    match command {
        Command::Run {
            files,
            verbose,
            fail_fast,
            format,
            junit,
            pause_on_failure,
            report_dir,
            allow_skip,
        } => {
            let opts = RunOptions {
                snapshot_dir: None,
                verbose: format == RunFormat::Human,
                report_dir: Some(
                    report_dir.unwrap_or_else(|| netspec::target_dir().join("netspec")),
                ),
                show_paths: verbose,
                pause_on_failure,
            };
            let code = run(&files, &opts, fail_fast, format, junit.as_deref());
            if allow_skip && code == ExitCode::from(77) {
                ExitCode::SUCCESS
            } else {
                code
            }
        }
        Command::Check { files, format } => check(&files, format == CheckFormat::Json),
        Command::List { dir, format } => list(&dir, format),
        Command::Test { dir, args } => test(&dir, args),
        Command::Reap => reap(),
        Command::Up { file, lab } => lab_cli::up(&file, lab),
        Command::Shell { node, lab } => lab_cli::enter(&node, lab.as_deref(), Vec::new()),
        Command::Exec { node, lab, cmd } => lab_cli::enter(&node, lab.as_deref(), cmd),
        Command::Down { lab } => lab_cli::down(lab.as_deref()),
        Command::Explore {
            seed,
            count,
            size,
            jobs,
            out,
        } => explore(seed, count, size as usize, jobs as usize, out),
        Command::Graph { file, format } => graph(&file, format),
        Command::Vm {
            kernel,
            modules,
            accel,
            cpus,
            memory,
            boot_timeout,
            timeout,
            append,
            args,
        } => {
            let mut opts = netspec::vm::VmOptions::new(kernel);
            opts.modules = modules;
            opts.accel = match accel {
                VmAccel::Auto => netspec::vm::Accel::Auto,
                VmAccel::Kvm => netspec::vm::Accel::Kvm,
                VmAccel::Tcg => netspec::vm::Accel::Tcg,
            };
            (opts.cpus, opts.memory_mib, opts.append) = (cpus, memory, append);
            opts.boot_timeout = std::time::Duration::from_secs(boot_timeout);
            opts.timeout = std::time::Duration::from_secs(timeout);
            vm(&opts, &args)
        }
        Command::Completions { shell } => completions(shell),
        Command::Man => manual(),
        Command::Schema => {
            say::line(netspec::scenario::schema_json().trim_end());
            ExitCode::SUCCESS
        }
    }
}

/// `netspec vm`: the inner exit code, or 3 when the VM could not run the command.
fn vm(opts: &netspec::vm::VmOptions, args: &[std::ffi::OsString]) -> ExitCode {
    let me = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return usage_error(&format!("cannot find netspec's own path: {e}")),
    };
    match netspec::vm::run(opts, &me, args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("{}: netspec vm: {e}", paint("1;31", "error"));
            ExitCode::from(3)
        }
    }
}

/// `netspec completions SHELL`: the script clap_complete makes from the command line.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "netspec", &mut out);
    say::line(String::from_utf8_lossy(&out).trim_end());
    ExitCode::SUCCESS
}

/// `netspec man`: the manual page clap_mangen makes from the command line.
fn manual() -> ExitCode {
    let mut out = Vec::new();
    let cmd = <Cli as clap::CommandFactory>::command();
    match clap_mangen::Man::new(cmd).render(&mut out) {
        Ok(()) => {
            say::line(String::from_utf8_lossy(&out).trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("{}: {msg}", paint("1;31", "error"));
    ExitCode::from(2)
}

/// `netspec explore`: exit 0 when the kernel did what the model predicted everywhere.
fn explore(seed: u64, count: u64, size: usize, jobs: usize, out: PathBuf) -> ExitCode {
    if let Some(why) = netspec::missing_privileges() {
        // As `run`: 1 when it could not run; 2 is for usage errors.
        eprintln!("error: {why}");
        return ExitCode::FAILURE;
    }
    let opts = netspec::explore::ExploreOptions {
        seed,
        count,
        size,
        jobs,
        out: Some(out),
        plant: Default::default(),
    };
    // On a terminal, a bar with the total and an ETA; otherwise (a log, CI) a plain line
    // every 100 scenarios.
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| explore_bar(count));
    let sum = netspec::explore::explore(&opts, |s| match &bar {
        Some(b) => {
            b.set_position(s.scenarios);
            b.set_message(format!(
                "{:.1}/s, {} pings, {} disagreements",
                s.per_second(),
                s.pings,
                s.disagreements.len()
            ));
        }
        None if s.scenarios % 100 == 0 => say::line(&format!(
            "{} scenarios, {} pings, {} disagreements, {:.1} scenarios/s",
            s.scenarios,
            s.pings,
            s.disagreements.len(),
            s.per_second()
        )),
        None => {}
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for d in &sum.disagreements {
        say::line(&format!(
            "seed {}: {} nodes; {} -> {}: predicted {:?}, the kernel: {}{}",
            d.seed,
            d.topo.nodes.len(),
            d.topo.nodes[d.probe.from].name,
            d.probe.to,
            d.probe.answer,
            d.kernel,
            d.file
                .as_ref()
                .map(|f| format!(" ({})", f.display()))
                .unwrap_or_default()
        ));
    }
    for e in &sum.errors {
        eprintln!("error: {e}");
    }
    say::line(&format!(
        "explored {} scenarios of {size} nodes ({} pings) in {:.1} s: {:.1} scenarios/s; slowest reply {:.3} ms; {} disagreements, {} errors",
        sum.scenarios,
        sum.pings,
        sum.elapsed.as_secs_f64(),
        sum.per_second(),
        sum.slowest_reply.as_secs_f64() * 1e3,
        sum.disagreements.len(),
        sum.errors.len()
    ));
    if sum.disagreements.is_empty() && sum.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The bar of `explore`'s scenarios, on stderr.
fn explore_bar(count: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(count);
    if let Ok(style) = indicatif::ProgressStyle::with_template(EXPLORE_BAR) {
        bar.set_style(style);
    }
    bar
}

/// `[#####     ] 120/2000 scenarios, ETA 49s, 38.2/s, 960 pings, 0 disagreements`.
const EXPLORE_BAR: &str = "[{bar:30}] {pos}/{len} scenarios, ETA {eta}, {msg}";

/// `netspec reap`: removes the pins of ended runs, listing each.
fn reap() -> ExitCode {
    match netspec::reap() {
        Ok(removed) => {
            for p in &removed {
                say::line(&format!("removed {}", p.display()));
            }
            say::line(&format!("{} pinned namespaces removed", removed.len()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: netspec reap: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test(dir: &Path, args: Vec<String>) -> ExitCode {
    if let Err(e) = std::fs::read_dir(dir) {
        return usage_error(&format!("cannot read {}: {e}", dir.display()));
    }
    let harness = netspec::Harness::new(dir);
    if harness.discover().is_empty() {
        return usage_error(&format!("no scenarios (*.yaml) under {}", dir.display()));
    }
    harness.run_with_args(args)
}

fn check(files: &[PathBuf], json: bool) -> ExitCode {
    each_trial(
        files.iter().map(|f| (scenarios_root(f), f.clone())),
        |sc, file| {
            say::line(&if json {
                serde_json::json!({
                    "scenario": sc.name,
                    "file": file,
                    "verdict": "ok",
                    "nodes": sc.nodes.len(),
                    "steps": sc.steps.len(),
                })
                .to_string()
            } else {
                format!(
                    "{}: {} ({} nodes, {} steps)",
                    sc.name,
                    paint("32", "ok"),
                    sc.nodes.len(),
                    sc.steps.len()
                )
            });
        },
        |file, message| {
            if json {
                let o = serde_json::json!({"file": file, "verdict": "invalid", "message": message});
                say::line(&o.to_string());
            } else {
                eprintln!("{message}");
            }
        },
    )
}

/// Loads every trial of each (root, file); `show` prints one, `fail` a file that does
/// not load (which makes the exit status 1).
fn each_trial(
    files: impl Iterator<Item = (PathBuf, PathBuf)>,
    mut show: impl FnMut(netspec::Scenario, &Path),
    mut fail: impl FnMut(&Path, String),
) -> ExitCode {
    let mut failed = false;
    let mut names = netspec::scenario::UniqueNames::default();
    for (root, file) in files {
        match load_variants(&root, &file) {
            Ok(all) => {
                for sc in all {
                    match names.claim(&sc.name, &file) {
                        Ok(()) => show(sc, &file),
                        Err(e) => {
                            fail(&file, format!("error: {e}"));
                            failed = true;
                        }
                    }
                }
            }
            Err(e) => {
                fail(&file, e.to_string());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn graph(file: &Path, format: GraphFormat) -> ExitCode {
    match load_variants(&scenarios_root(file), file) {
        Ok(all) => {
            let (format, comment) = match format {
                GraphFormat::Mermaid => (netspec::graph::Format::Mermaid, "%%"),
                GraphFormat::Dot => (netspec::graph::Format::Dot, "//"),
            };
            for sc in &all {
                // A matrix draws one picture per trial, each named.
                if all.len() > 1 {
                    say::line(&format!("{comment} {}", sc.name));
                }
                say::line(netspec::graph::render(sc, format).trim_end());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn list(dir: &Path, format: ListFormat) -> ExitCode {
    if let Err(e) = std::fs::read_dir(dir) {
        return usage_error(&format!("cannot read {}: {e}", dir.display()));
    }
    let harness = netspec::Harness::new(dir);
    let files = harness.discover();
    if files.is_empty() {
        return usage_error(&format!("no scenarios (*.yaml) under {}", dir.display()));
    }
    if format == ListFormat::Markdown {
        say::line("# Scenarios\n");
        say::line(&format!(
            "Every scenario under `{}`, with its description. Generated by `netspec list {} --format markdown`; `harness/tests/cli.rs` fails when this file is stale.\n",
            dir.display(),
            dir.display()
        ));
        say::line("| scenario | description |");
        say::line("|---|---|");
    }
    each_trial(
        files.iter().map(|f| (dir.to_path_buf(), f.clone())),
        |sc, f| {
            let desc = sc.description.unwrap_or_default().replace('\n', " ");
            say::line(&match format {
                ListFormat::Text => format!("{:<40} {desc}", sc.name),
                ListFormat::Json => serde_json::json!({
                    "scenario": sc.name,
                    "file": f,
                    "description": desc,
                })
                .to_string(),
                ListFormat::Markdown => {
                    let link = f.strip_prefix(dir).unwrap_or(f).display().to_string();
                    format!("| [`{}`]({link}) | {} |", sc.name, desc.replace('|', "\\|"))
                }
            });
        },
        |_, message| eprintln!("{message}"),
    )
}

fn run(
    files: &[PathBuf],
    opts: &RunOptions,
    fail_fast: bool,
    format: RunFormat,
    junit_to: Option<&Path>,
) -> ExitCode {
    let human = format == RunFormat::Human;
    let t0 = Instant::now();
    let mut results = Vec::new();
    let mut files_started = 0;
    let mut names = netspec::scenario::UniqueNames::default();
    'files: for file in files {
        files_started += 1;
        for r in run_file(file, opts, &mut names) {
            if human {
                report(&r);
            } else {
                for l in r.json_lines() {
                    say::line(&l);
                }
            }
            let stop = fail_fast && matches!(r.outcome, Outcome::Failed(_) | Outcome::Invalid(_));
            results.push(r);
            if stop {
                break 'files;
            }
        }
    }
    if let Some(path) = junit_to {
        if let Err(e) = write_report(path, &junit("netspec", &results)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let count = |v: &str| results.iter().filter(|r| r.verdict() == v).count();
    let (passed, skipped) = (count("passed"), count("skipped"));
    let failed = results.len() - passed - skipped;
    if !human {
        say::line(&netspec::formats::summary_line(&results, t0.elapsed()));
    }
    if human && (files.len() > 1 || results.len() > 1) {
        let not_run = files.len() - files_started;
        let mut summary = format!(
            "\n{} passed, {} failed, {} skipped",
            paint("32", &passed.to_string()),
            paint(if failed > 0 { "1;31" } else { "0" }, &failed.to_string()),
            paint(if skipped > 0 { "33" } else { "0" }, &skipped.to_string()),
        );
        if not_run > 0 {
            let s = if not_run == 1 { "" } else { "s" };
            summary += &format!(", {not_run} file{s} not run (--fail-fast)");
        }
        summary += &format!(" [{:.2} s]", t0.elapsed().as_secs_f64());
        say::line(&summary);
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else if skipped > 0 {
        // The automake convention for "skipped": neither a pass nor a failure.
        ExitCode::from(77)
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes a JUnit report, but never through a symlink and never over a file that is
/// not an earlier netspec report.
fn write_report(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let ours = meta.is_file()
            && std::fs::read_to_string(path)
                .is_ok_and(|t| t.contains("<testsuites name=\"netspec\""));
        if !ours {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it exists and is not a netspec JUnit report; netspec overwrites only its own",
            ));
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Every trial of one file (several for a `matrix:`), each run in turn.
fn run_file(
    file: &Path,
    opts: &RunOptions,
    names: &mut netspec::scenario::UniqueNames,
) -> Vec<ScenarioResult> {
    let human = opts.verbose;
    let t0 = Instant::now();
    let root = scenarios_root(file);
    let all = match load_variants(&root, file) {
        Ok(all) => all,
        Err(e) => {
            return vec![ScenarioResult {
                name: netspec::scenario::scenario_name(&root, file),
                file: file.to_path_buf(),
                outcome: Outcome::Invalid(e),
                elapsed: t0.elapsed(),
            }]
        }
    };
    all.into_iter()
        .map(|sc| {
            let t0 = Instant::now();
            if human {
                say::line(&format!("scenario {}", sc.name));
            } else {
                say::line(&ScenarioResult::start_line(&sc.name, file));
            }
            // Two scenarios of one name would share, and clobber, one report folder.
            let outcome = match names.claim(&sc.name, file) {
                Err(e) => Outcome::Refused(e),
                Ok(()) => run_checked(&sc, opts),
            };
            ScenarioResult {
                name: sc.name,
                file: file.to_path_buf(),
                outcome,
                elapsed: t0.elapsed(),
            }
        })
        .collect()
}

/// The human end of one scenario.
fn report(r: &ScenarioResult) {
    let ms = r.elapsed.as_secs_f64() * 1000.0;
    match &r.outcome {
        Outcome::Passed(rep) => say::line(&format!(
            "{}: {} [{ms:.2} ms total]",
            paint("32", "ok"),
            rep.steps_summary()
        )),
        Outcome::Skipped(s) => say::line(&format!("{}: {}", paint("33", "skipped"), s.reason)),
        Outcome::Refused(why) => eprintln!("{}: {why}", paint("1;31", "error")),
        Outcome::Invalid(e) => eprintln!("{e}"),
        Outcome::Failed(f) => eprintln!("\n{f}"),
    }
}

/// Scenario names are relative to the nearest enclosing `scenarios/` directory.
fn scenarios_root(file: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    abs.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "scenarios"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| abs.parent().unwrap_or(Path::new(".")).to_path_buf())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_explore_bar_template_is_valid_and_shows_total_and_eta() {
        assert!(indicatif::ProgressStyle::with_template(super::EXPLORE_BAR).is_ok());
        for part in ["{len}", "{eta}"] {
            assert!(super::EXPLORE_BAR.contains(part), "{part}");
        }
    }
}
