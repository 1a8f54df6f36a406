//! `capture:` writes a pcapng file that a pcap library reads back: one interface block
//! per captured interface, named `node:if`, and the frames of a known exchange where they
//! crossed. A failed run's report says where the capture is. Needs root.

use std::path::Path;
use std::process::{Command, Output};

use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};

mod common;
use common::{netspec_exe, project_root};

fn run(file: &str, target: &Path) -> Output {
    Command::new(netspec_exe())
        .args(["run", file])
        .current_dir(project_root())
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("netspec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (interface name, frame) for every packet in the file.
fn read(path: &Path) -> (Vec<String>, Vec<(String, Vec<u8>)>) {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section header");
    let mut names = Vec::new();
    let mut frames = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.expect("every block parses") {
            Block::InterfaceDescription(idb) => {
                let name = idb.options.iter().find_map(|o| match o {
                    InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                    _ => None,
                });
                names.push(name.expect("every interface is named"));
            }
            Block::EnhancedPacket(p) => {
                frames.push((names[p.interface_id as usize].clone(), p.data.to_vec()));
            }
            _ => {}
        }
    }
    (names, frames)
}

fn is_echo(frame: &[u8], kind: u8) -> bool {
    frame.len() > 34 && frame[12..14] == [8, 0] && frame[23] == 1 && frame[34] == kind
}

#[test]
fn a_known_exchange_reads_back_where_it_crossed() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let target = scratch("capture");
    let out = run("tests/capture/exchange.yaml", &target);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (names, frames) = read(&target.join("netspec/capture/exchange/capture.pcapng"));
    assert_eq!(
        names,
        [
            "host:br00",
            "host:veth1",
            "host:veth2",
            "net1:vethpeer1",
            "net2:vethpeer2"
        ]
    );
    let where_ = |kind| {
        frames
            .iter()
            .filter(|(_, f)| is_echo(f, kind))
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
    };
    // The request crosses the bridge's two ports and both ends, never the bridge itself.
    assert_eq!(
        where_(8),
        [
            "net1:vethpeer1",
            "host:veth1",
            "host:veth2",
            "net2:vethpeer2"
        ]
    );
    assert_eq!(
        where_(0),
        [
            "net2:vethpeer2",
            "host:veth2",
            "host:veth1",
            "net1:vethpeer1"
        ]
    );
    // The ARP exchange before it is there too.
    assert!(frames
        .iter()
        .any(|(n, f)| n == "net2:vethpeer2" && f[12..14] == [8, 6]));
    std::fs::remove_dir_all(&target).unwrap();
}

#[test]
fn a_failed_run_names_its_capture() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let target = scratch("capture-fails");
    let out = run("tests/capture/fails.yaml", &target);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let path = target.join("netspec/capture/fails/capture.pcapng");
    assert!(
        stderr.contains(&format!("the frames, in pcapng: {}", path.display())),
        "{stderr}"
    );
    let (names, frames) = read(&path);
    assert_eq!(names, ["net1:eth0"]);
    assert!(
        frames.iter().any(|(_, f)| f[12..14] == [8, 6]),
        "the unanswered ARP requests"
    );
    std::fs::remove_dir_all(&target).unwrap();
}

/// Wireshark's own reader agrees: tshark lists every frame with its interface's name.
/// Needs tshark, which `.ci/run` installs and runs this for.
#[test]
#[ignore = "needs tshark (apt-get install tshark); .ci/run runs it with --include-ignored"]
fn tshark_reads_the_capture() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let target = scratch("capture-tshark");
    let out = run("tests/capture/exchange.yaml", &target);
    assert!(out.status.success());
    let path = target.join("netspec/capture/exchange/capture.pcapng");
    let shown = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "frame.p2p_dir",
        ])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let (_, frames) = read(&path);
    assert_eq!(text.lines().count(), frames.len(), "{text}");
    assert!(
        text.contains("net1:vethpeer1\t0"),
        "an outbound frame, by name: {text}"
    );
    assert!(
        text.contains("host:veth1\t1"),
        "an inbound frame, by name: {text}"
    );
    std::fs::remove_dir_all(&target).unwrap();
}

#[test]
fn run_v_prints_the_path_of_every_passing_ping() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let target = scratch("run-v");
    let out = |args: &[&str]| {
        let o = Command::new(netspec_exe())
            .args(args)
            .current_dir(project_root())
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let with = out(&["run", "-v", "scenarios/seed/bridge-sh.yaml"]);
    assert!(
        with.contains("the request crossed net1:vethpeer1 -> host:veth1 -> host:veth2 -> net2:vethpeer2; the reply crossed net2:vethpeer2 -> host:veth2 -> host:veth1 -> net1:vethpeer1"),
        "{with}"
    );
    let without = out(&["run", "scenarios/seed/bridge-sh.yaml"]);
    assert!(
        !without.contains("crossed"),
        "no taps without -v: {without}"
    );
    std::fs::remove_dir_all(&target).unwrap();
}
