//! `cargo bench -p netspec --bench scale`: how build + teardown grows with topology size,
//! and suite throughput. Whole `netspec` processes, timed from outside, with peak RSS
//! from wait4. Prints markdown tables and writes `target/netspec-bench/scale.csv` and
//! `scale.svg` (time per node against N). Needs root.
//!
//! - line: a chain of N routers, each joined to the next by a veth pair with a /30.
//! - star: one bridge with N ports, each the peer of one of N hosts.
//! - suite: 200 copies of seed/bridge-sh.yaml run by `netspec test` with 1, 2 and 8 threads.

// A benchmark's main reads as a script, top to bottom; the size rule is for harness/src.
#![allow(clippy::too_many_lines)]

use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SIZES: [usize; 5] = [10, 50, 100, 250, 500];
const RUNS: usize = 3;

fn line(n: usize) -> String {
    let mut y = String::from("description: a chain of routers\nnodes:\n");
    for i in 0..n {
        let _ = writeln!(
            y,
            "  r{i}:\n    sysctl: {{ net.ipv4.ip_forward: 1 }}\n    interfaces:"
        );
        // Link i joins r{i} (left end) and r{i+1} (right end); a /30 each.
        let net = |l: usize, host: usize| format!("10.{}.{}.{}/30", l >> 6, (l & 63) << 2, host);
        if i + 1 < n {
            let _ = writeln!(
                y,
                "      right: {{ peer: r{}:left, addresses: [{}] }}",
                i + 1,
                net(i, 1)
            );
        }
        if i > 0 {
            let _ = writeln!(y, "      left: {{ addresses: [{}] }}", net(i - 1, 2));
        }
    }
    y + "steps:\n  - ping: { from: r0, to: r1:left }\n"
}

fn star(n: usize) -> String {
    let mut y = String::from("description: one bridge, many ports\nnodes:\n  sw:\n    interfaces:\n      br0: { kind: bridge }\n");
    for i in 0..n {
        let _ = writeln!(y, "      p{i}: {{ peer: h{i}:eth0, master: br0 }}");
    }
    for i in 0..n {
        let _ = writeln!(
            y,
            "  h{i}:\n    interfaces:\n      eth0: {{ addresses: [10.1.{}.{}/16] }}",
            i / 250,
            i % 250 + 1
        );
    }
    let _ = writeln!(y, "steps:\n  - ping: {{ from: h0, to: h{}:eth0 }}", n - 1);
    y
}

struct Sample {
    wall: Duration,
    rss_kb: i64,
}

fn measure(cmd: &mut Command) -> Result<(Sample, String), String> {
    use std::io::Read;
    let t0 = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id() as i32;
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by wait4 for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = t0.elapsed();
    let (stdout, stderr) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    if r < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    if !std::process::ExitStatus::from_raw(status).success() {
        return Err(format!(
            "exit {status}: {}{}",
            stdout.lines().last().unwrap_or(""),
            stderr.lines().last().unwrap_or("")
        ));
    }
    Ok((
        Sample {
            wall,
            rss_kb: ru.ru_maxrss,
        },
        stdout,
    ))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn svg(rows: &[(String, usize, f64)]) -> String {
    let (w, h, pad) = (640.0, 360.0, 50.0);
    let max_y = rows.iter().map(|r| r.2).fold(0.0, f64::max) * 1.15;
    let x = |n: usize| pad + (n as f64 / 500.0) * (w - 2.0 * pad);
    let y = |v: f64| h - pad - v / max_y * (h - 2.0 * pad);
    let mut s = format!("<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n");
    let _ = writeln!(
        s,
        "<line x1='{pad}' y1='{}' x2='{}' y2='{}' stroke='black'/>",
        h - pad,
        w - pad,
        h - pad
    );
    let _ = writeln!(
        s,
        "<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{}' stroke='black'/>",
        h - pad
    );
    for n in SIZES {
        let _ = writeln!(
            s,
            "<text x='{}' y='{}' text-anchor='middle'>{n}</text>",
            x(n),
            h - pad + 16.0
        );
    }
    for i in 0..=4 {
        let v = max_y * i as f64 / 4.0;
        let _ = writeln!(
            s,
            "<text x='{}' y='{}' text-anchor='end'>{v:.2}</text>",
            pad - 4.0,
            y(v) + 4.0
        );
    }
    let _ = writeln!(
        s,
        "<text x='{}' y='{}' text-anchor='middle'>nodes (N)</text>",
        w / 2.0,
        h - 12.0
    );
    let _ = writeln!(s, "<text x='14' y='{}' transform='rotate(-90 14 {})' text-anchor='middle'>ms per node (build + teardown)</text>", h / 2.0, h / 2.0);
    for (shape, color, dy) in [("line", "#1f77b4", 0.0), ("star", "#d62728", 16.0)] {
        let pts: Vec<String> = rows
            .iter()
            .filter(|r| r.0 == shape)
            .map(|r| format!("{:.1},{:.1}", x(r.1), y(r.2)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill='none' stroke='{color}' stroke-width='2' points='{}'/>",
            pts.join(" ")
        );
        let _ = writeln!(
            s,
            "<text x='{}' y='{}' fill='{color}'>{shape}</text>",
            w - pad - 40.0,
            pad + dy
        );
    }
    s + "</svg>\n"
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    if let Some(why) = netspec::missing_privileges() {
        eprintln!("{why}");
        std::process::exit(1);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = root.join("target/netspec-bench");
    let gen = out_dir.join("scenarios");
    std::fs::create_dir_all(&gen).unwrap();
    let netspec = env!("CARGO_BIN_EXE_netspec");
    let mut failures = 0;

    println!("## Scaling: build, one ping, teardown (median of {RUNS} runs)\n");
    println!("| shape | N | wall ms | ms per node | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    let mut csv = String::from("shape,n,wall_ms,ms_per_node,rss_kib\n");
    for (shape, make) in [("line", line as fn(usize) -> String), ("star", star)] {
        for n in SIZES {
            let file: PathBuf = gen.join(format!("{shape}-{n}.yaml"));
            std::fs::write(&file, make(n)).unwrap();
            let mut walls = Vec::new();
            let mut rss = 0;
            for _ in 0..RUNS {
                std::thread::sleep(Duration::from_millis(300)); // let the kernel free the last run's namespaces
                match measure(Command::new(netspec).arg("run").arg(&file)) {
                    Ok((s, _)) => {
                        walls.push(s.wall.as_secs_f64() * 1000.0);
                        rss = rss.max(s.rss_kb);
                    }
                    Err(e) => {
                        failures += 1;
                        println!("| {shape} | {n} | failed: {e} | | |");
                    }
                }
            }
            if walls.is_empty() {
                continue;
            }
            let m = median(walls);
            let per = m / n as f64;
            println!(
                "| {shape} | {n} | {m:.1} | {per:.3} | {:.1} |",
                rss as f64 / 1024.0
            );
            let _ = writeln!(csv, "{shape},{n},{m:.2},{per:.4},{rss}");
            rows.push((shape.to_string(), n, per));
        }
    }
    std::fs::write(out_dir.join("scale.csv"), csv).unwrap();
    std::fs::write(out_dir.join("scale.svg"), svg(&rows)).unwrap();

    println!("\n## Suite throughput: 200 copies of seed/bridge-sh.yaml\n");
    println!("| test threads | wall s | scenarios/s | passed | failed |");
    println!("|---:|---:|---:|---:|---:|");
    let suite = out_dir.join("suite/scenarios");
    let _ = std::fs::remove_dir_all(&suite);
    std::fs::create_dir_all(&suite).unwrap();
    let seed = std::fs::read_to_string(root.join("scenarios/seed/bridge-sh.yaml")).unwrap();
    for i in 0..200 {
        std::fs::write(suite.join(format!("copy-{i:03}.yaml")), &seed).unwrap();
    }
    for threads in [1, 2, 8] {
        std::thread::sleep(Duration::from_millis(500));
        let mut cmd = Command::new(netspec);
        cmd.arg("test")
            .arg(&suite)
            .args(["--test-threads", &threads.to_string()]);
        let (passed, failed, wall) = match measure(&mut cmd) {
            Ok((s, out)) => {
                let line = out
                    .lines()
                    .find(|l| l.starts_with("test result"))
                    .unwrap_or("")
                    .to_string();
                // "test result: ok. 200 passed; 0 failed; ..."
                let num = |key: &str| {
                    line.split([';', '.'])
                        .find(|p| p.trim().ends_with(key))
                        .and_then(|p| {
                            p.split_whitespace()
                                .next()
                                .and_then(|x| x.parse::<usize>().ok())
                        })
                        .unwrap_or(0)
                };
                (num("passed"), num("failed"), s.wall.as_secs_f64())
            }
            Err(e) => {
                println!("| {threads} | failed: {e} | | | |");
                failures += 1;
                continue;
            }
        };
        failures += failed;
        println!(
            "| {threads} | {wall:.2} | {:.0} | {passed} | {failed} |",
            200.0 / wall
        );
    }
    println!("\nwrote {}", out_dir.join("scale.svg").display());
    if failures > 0 {
        std::process::exit(1);
    }
}
