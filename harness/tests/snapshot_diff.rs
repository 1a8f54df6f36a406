//! A deliberately wrong snapshot fails its trial with a readable diff, and with CI=true
//! nothing is written. Needs root.

use std::process::Command;

mod common;
use common::{netspec_exe, project_root};

#[test]
fn a_wrong_snapshot_fails_with_a_diff() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let root = project_root();
    let dir = std::env::temp_dir().join(format!("netspec-snapdiff-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scenarios/seed")).unwrap();
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    std::fs::copy(
        root.join("scenarios/seed/bridge.yaml"),
        dir.join("scenarios/seed/bridge.yaml"),
    )
    .unwrap();
    let good =
        std::fs::read_to_string(root.join("snapshots/seed__bridge@after-ping.snap")).unwrap();
    // One fact changed: the learned entry of net1 on the wrong port.
    let wrong = good.replacen(
        "dev veth1 master br00  # net1:vethpeer1",
        "dev veth2 master br00  # net1:vethpeer1",
        1,
    );
    assert_ne!(
        wrong, good,
        "the committed snapshot has the line this test changes"
    );
    std::fs::write(dir.join("snapshots/seed__bridge@after-ping.snap"), &wrong).unwrap();

    let out = Command::new(netspec_exe())
        .args(["test", "scenarios"])
        .current_dir(&dir)
        .env("CI", "true")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Vec<_> = std::fs::read_dir(dir.join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);

    assert!(!out.status.success(), "{all}");
    assert!(all.contains("test seed/bridge ... FAILED"), "{all}");
    assert!(
        all.contains("-old snapshot") && all.contains("+new results"),
        "no diff header: {all}"
    );
    assert!(
        all.contains("│-  02:0c:70:01:3e:7f dev veth2 master br00"),
        "the wrong line is not shown as removed: {all}"
    );
    assert!(
        all.contains("│+  02:0c:70:01:3e:7f dev veth1 master br00"),
        "the real line is not shown as added: {all}"
    );
    assert!(
        all.contains("state equal to snapshots/seed__bridge@after-ping.snap"),
        "{all}"
    );
    // The diff is the message: no panic line pointing into netspec, no backtrace.
    assert!(!all.contains("panicked at"), "{all}");
    assert!(!all.contains("stack backtrace"), "{all}");
    assert_eq!(
        written.len(),
        1,
        "with CI=true nothing is written: {written:?}"
    );
}

#[test]
fn a_symlink_where_insta_would_write_is_refused() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let root = project_root();
    let dir = std::env::temp_dir().join(format!("netspec-snaplink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scenarios/seed")).unwrap();
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    std::fs::copy(
        root.join("scenarios/seed/bridge.yaml"),
        dir.join("scenarios/seed/bridge.yaml"),
    )
    .unwrap();
    let victim = dir.join("victim");
    std::fs::write(&victim, "not netspec's").unwrap();
    // No committed snapshot: insta would write the new one as .snap.new, and with
    // INSTA_UPDATE=always as .snap; each is a symlink to someone else's file.
    for (ext, update) in [("snap.new", "new"), ("snap", "always")] {
        let link = dir.join(format!("snapshots/seed__bridge@after-ping.{ext}"));
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let out = Command::new(netspec_exe())
            .args(["test", "scenarios", "--exact", "seed/bridge"])
            .current_dir(&dir)
            .env_remove("CI")
            .env("INSTA_UPDATE", update)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{all}");
        assert!(all.contains("never writes through it"), "{all}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not netspec's");
        std::fs::remove_file(&link).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
