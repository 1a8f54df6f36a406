//! `cargo bench -p netspec --bench seed`: the seed's bridge.sh against netspec, as whole
//! processes, side by side; the seed with each kind of observation; and the same kernel
//! work in C (bench/seed_floor.c), the floor under netspec. A benchmark, not a test: it
//! prints figures and asserts only that every run succeeded. Needs root; the floor needs
//! cc, the baselines iproute2 (and iputils-ping, bridge-utils and net-tools for the
//! script with its pings and debug output); the scripts run isolated in their own network
//! and mount namespaces (bench/isolated.sh).

// A benchmark's main reads as a script, top to bottom; the size rule is for harness/src.
#![allow(clippy::too_many_lines)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Sample {
    wall: Duration,
    max_rss_kb: i64,
}

/// Runs a command to completion; its wall time and peak RSS (from wait4).
fn measure(cmd: &mut Command) -> Result<Sample, String> {
    let t0 = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by wait4.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = t0.elapsed();
    if r < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    let st = std::process::ExitStatus::from_raw(status);
    if !st.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        return Err(format!("{st}: {}", err.lines().last().unwrap_or("")));
    }
    Ok(Sample {
        wall,
        max_rss_kb: ru.ru_maxrss,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Row {
    name: String,
    runs: usize,
    result: Result<(f64, f64, f64, i64), String>,
}

fn bench(name: &str, runs: usize, pause: Duration, mut make: impl FnMut() -> Command) -> Row {
    let mut walls = Vec::new();
    let mut rss = 0;
    for _ in 0..runs {
        match measure(&mut make()) {
            Ok(s) => {
                walls.push(ms(s.wall));
                rss = rss.max(s.max_rss_kb);
            }
            Err(e) => {
                return Row {
                    name: name.into(),
                    runs,
                    result: Err(e),
                }
            }
        }
        std::thread::sleep(pause);
    }
    walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = walls[walls.len() / 2];
    let p90 = walls[(walls.len() * 9 / 10).min(walls.len() - 1)];
    Row {
        name: name.into(),
        runs,
        result: Ok((walls[0], median, p90, rss)),
    }
}

fn missing(tools: &[&str]) -> Vec<String> {
    tools
        .iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|t| t.to_string())
        .collect()
}

/// The Debian package that has a baseline's tool.
fn package(tool: &str) -> &str {
    match tool {
        "ip" => "iproute2",
        "unshare" => "util-linux",
        "brctl" => "bridge-utils",
        "route" | "ifconfig" => "net-tools",
        "ping" => "iputils-ping",
        "cc" => "gcc",
        other => other,
    }
}

/// Installs the packages of missing tools (the bench runs as root); what is still
/// missing afterwards is an error, never a silently skipped baseline.
fn ensure(tools: &[&str]) -> Vec<String> {
    let m = missing(tools);
    if m.is_empty() {
        return m;
    }
    let mut pkgs: Vec<&str> = m.iter().map(|t| package(t)).collect();
    pkgs.dedup();
    eprintln!("installing {} for the baselines", pkgs.join(" "));
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&pkgs)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status();
    missing(tools)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` must not run it.
    }
    if let Some(why) = netspec::missing_privileges() {
        eprintln!("{why}");
        std::process::exit(1);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let netspec = env!("CARGO_BIN_EXE_netspec");
    let quiet = Duration::from_millis(100);
    let mut rows = Vec::new();

    let run_scenario = |file: PathBuf| {
        move || {
            let mut c = Command::new(netspec);
            c.arg("run").arg(&file);
            c
        }
    };
    rows.push(bench(
        "netspec: seed/bridge-sh.yaml (topology, 1 ping each way, teardown), runs 100 ms apart",
        50,
        quiet,
        run_scenario(root.join("scenarios/seed/bridge-sh.yaml")),
    ));
    rows.push(bench(
        "netspec: seed/bridge-sh.yaml, back to back",
        50,
        Duration::ZERO,
        run_scenario(root.join("scenarios/seed/bridge-sh.yaml")),
    ));
    rows.push(bench(
        "netspec: seed/bridge.yaml (includes a 1 s expect-unreachable ping)",
        5,
        quiet,
        run_scenario(root.join("scenarios/seed/bridge.yaml")),
    ));

    let generated = root.join("target/netspec-bench");
    std::fs::create_dir_all(&generated).unwrap();

    // What observing costs a whole process: bridge-sh.yaml with its first ping observed
    // in each of the four ways. Each opens taps, and closing a tap waits for an RCU grace
    // period that the process pays before it may return (BENCHMARKS.md).
    let seed_sh = std::fs::read_to_string(root.join("scenarios/seed/bridge-sh.yaml")).unwrap();
    let first_ping = "  - ping: { from: net1, to: 10.100.0.20 }\n";
    assert!(
        seed_sh.contains(first_ping),
        "bridge-sh.yaml's first ping moved"
    );
    let observed: [(&str, &str, &str); 4] = [
        (
            "path",
            "",
            concat!(
                "  - ping:\n      from: net1\n      to: 10.100.0.20\n",
                "      path: [net1:vethpeer1, host:veth1, host:veth2, net2:vethpeer2]\n",
            ),
        ),
        (
            "seen",
            "",
            "  - ping: { from: net1, to: 10.100.0.20, seen: [host:veth2] }\n",
        ),
        (
            "watch",
            "",
            concat!(
                "  - watch: { name: w, at: host:veth2, match: { proto: icmp } }\n",
                "  - ping: { from: net1, to: 10.100.0.20 }\n",
                "  - check: { frames: { watch: w, count: 2 } }\n",
            ),
        ),
        ("capture: all", "capture: all\n", first_ping),
    ];
    for (what, top, step) in observed {
        let file = generated.join(format!("bridge-sh-{}.yaml", what.replace(": ", "-")));
        let text = format!("{top}{}", seed_sh.replacen(first_ping, step, 1));
        std::fs::write(&file, text).unwrap();
        let label = format!(
            "netspec: seed/bridge-sh.yaml with `{what}` on the first ping, runs 100 ms apart"
        );
        rows.push(bench(&label, 30, quiet, run_scenario(file)));
    }

    // The script without its pings is the seed's script with its two ping lines removed.
    let seed_script = std::fs::read_to_string(root.join("bench/bridge.sh")).unwrap();
    let nopings: String = seed_script
        .lines()
        .filter(|l| !l.contains("ping -c 2"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(generated.join("bridge-nopings.sh"), nopings).unwrap();
    let script = |path: PathBuf| {
        let isolated = root.join("bench/isolated.sh");
        move || {
            let mut c = Command::new("bash");
            c.arg(&isolated).arg(&path);
            c
        }
    };
    let baselines: [(&str, PathBuf, usize, &[&str]); 3] = [
        (
            "bridge.sh (the seed's script, with its pings)",
            root.join("bench/bridge.sh"),
            3,
            &["ip", "unshare", "ping", "brctl", "route"],
        ),
        (
            "bridge.sh without its pings",
            generated.join("bridge-nopings.sh"),
            20,
            &["ip", "unshare", "brctl", "route"],
        ),
        (
            "ip -batch, peers created in their namespace",
            root.join("bench/bridge-batch.sh"),
            20,
            &["ip", "unshare"],
        ),
    ];
    // The floor: the seed's kernel work in C with raw netlink, nothing else in the process.
    let floor = generated.join("seed-floor");
    let built = ensure(&["cc"]).is_empty()
        && Command::new("cc")
            .args(["-O2", "-pthread", "-o"])
            .arg(&floor)
            .arg(root.join("bench/seed_floor.c"))
            .status()
            .is_ok_and(|s| s.success());
    if built {
        rows.push(bench(
            "the same kernel work in C (bench/seed_floor.c), runs 100 ms apart",
            50,
            quiet,
            || Command::new(&floor),
        ));
    } else {
        rows.push(Row {
            name: "bench/seed_floor.c".into(),
            runs: 0,
            result: Err("cannot build it with cc".into()),
        });
    }

    for (label, file, runs, tools) in baselines {
        let m = ensure(tools);
        if m.is_empty() {
            rows.push(bench(label, runs, quiet, script(file)));
        } else {
            rows.push(Row {
                name: label.into(),
                runs: 0,
                result: Err(format!("missing: {}", m.join(", "))),
            });
        }
    }

    println!("| what | runs | min ms | median ms | p90 ms | peak RSS KiB |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut failed = false;
    for r in &rows {
        match &r.result {
            Ok((min, med, p90, rss)) => println!(
                "| {} | {} | {min:.1} | {med:.1} | {p90:.1} | {rss} |",
                r.name, r.runs
            ),
            Err(e) => {
                failed = true;
                println!("| {} | {} | {e} | | | |", r.name, r.runs)
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
