//! The VM's boot image: a static busybox, netspec's init, the command to run, and the
//! few modules that mounting the machine's root needs. Every other module loads on
//! demand from the kernel's module folder, shared read-only.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::cpio::Cpio;
use super::VmError;

/// What mounting the root over 9p with overlays needs, where the kernel has them as
/// modules (Debian's do). Their dependencies come from modules.dep.
const BOOT_MODULES: [&str; 4] = ["virtio_pci", "9pnet_virtio", "9p", "overlay"];

/// Where a static busybox lives once `busybox-static` is installed.
const BUSYBOX: &str = "/bin/busybox";

/// A host folder the guest mounts over 9p.
#[derive(Debug, Clone)]
pub(crate) struct Share {
    pub(crate) tag: &'static str,
    pub(crate) host: PathBuf,
    /// Where the guest mounts it, below its new root; None for the kernel's modules,
    /// which go to /usr/lib/modules/$(uname -r).
    pub(crate) guest: Option<PathBuf>,
    pub(crate) writable: bool,
}

/// The initramfs, as bytes.
pub(crate) fn build(
    modules: Option<&Path>,
    shares: &[Share],
    command: &[u8],
) -> Result<Vec<u8>, VmError> {
    let busybox = std::fs::read(BUSYBOX).map_err(|e| VmError::Busybox(e.to_string()))?;
    if busybox.get(..4) != Some(b"\x7fELF".as_slice()) || is_dynamic(&busybox) {
        return Err(VmError::Busybox(
            "it is not a static executable (the busybox package links it dynamically)".into(),
        ));
    }
    let mut c = Cpio::default();
    for d in ["bin", "dev", "proc", "sys", "netspec"] {
        c.dir(d);
    }
    c.char_device("dev/console", 5, 1);
    c.file("bin/busybox", 0o755, &busybox);
    c.file("init", 0o755, include_bytes!("init.sh"));
    c.file("netspec/command", 0o644, command);
    let mut order = String::new();
    if let Some(dir) = modules {
        for path in boot_modules(dir)? {
            let name = module_name(&path).to_string() + ".ko";
            let bytes = read_module(&dir.join(&path))?;
            c.file(&format!("netspec/{name}"), 0o644, &bytes);
            order.push_str(&name);
            order.push('\n');
        }
    }
    c.file("netspec/modules", 0o644, order.as_bytes());
    c.file("netspec/shares", 0o644, shares_file(shares)?.as_bytes());
    Ok(c.finish())
}

/// The lines init reads: `TAG ro|rw PATH`.
fn shares_file(shares: &[Share]) -> Result<String, VmError> {
    let mut out = String::new();
    for s in shares {
        let guest = s.guest.as_deref().unwrap_or(Path::new("/"));
        let text = guest
            .to_str()
            .filter(|t| t.starts_with('/') && !t.contains(['\n', '\0']))
            .ok_or_else(|| VmError::Path(guest.to_path_buf()))?;
        // Writable shares keep mmap coherent with the host; read-only ones cache freely.
        let mode = if s.writable {
            "rw,cache=mmap"
        } else {
            "ro,cache=loose"
        };
        out.push_str(&format!("{} {mode} {text}\n", s.tag));
    }
    Ok(out)
}

/// The boot modules and their dependencies, each after what it needs, as paths
/// relative to `dir`. A module the kernel has built in (modules.builtin) is left out.
fn boot_modules(dir: &Path) -> Result<Vec<String>, VmError> {
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f)).map_err(|e| VmError::Modules {
            dir: dir.to_path_buf(),
            why: format!("cannot read {f}: {e} (prepare the folder with `depmod -b`)"),
        })
    };
    let deps = parse_modules_dep(&read("modules.dep")?);
    let builtin = read("modules.builtin").unwrap_or_default();
    let builtin: Vec<&str> = builtin.lines().map(module_name).collect();
    let mut order = Vec::new();
    for m in BOOT_MODULES {
        if builtin.iter().any(|b| same_module(b, m)) {
            continue;
        }
        let Some(path) = deps.keys().find(|p| same_module(module_name(p), m)) else {
            return Err(VmError::Modules {
                dir: dir.to_path_buf(),
                why: format!("this kernel has no module {m}, and does not have it built in"),
            });
        };
        visit(path, &deps, &mut order);
    }
    Ok(order)
}

fn visit(path: &str, deps: &HashMap<String, Vec<String>>, order: &mut Vec<String>) {
    if order.iter().any(|p| p == path) {
        return;
    }
    for d in deps.get(path).into_iter().flatten() {
        visit(d, deps, order);
    }
    order.push(path.to_string());
}

/// modules.dep: `path: dep dep ...`, one module per line.
fn parse_modules_dep(text: &str) -> HashMap<String, Vec<String>> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(m, d)| {
            let deps = d.split_whitespace().map(str::to_string).collect();
            (m.trim().to_string(), deps)
        })
        .collect()
}

/// `kernel/net/9p/9pnet_virtio.ko.xz` -> `9pnet_virtio`.
fn module_name(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.split_once(".ko").map_or(file, |(n, _)| n)
}

/// Module names treat `-` and `_` alike.
fn same_module(a: &str, b: &str) -> bool {
    a.replace('-', "_") == b.replace('-', "_")
}

/// The module's ELF bytes: busybox's insmod takes them uncompressed.
fn read_module(path: &Path) -> Result<Vec<u8>, VmError> {
    let failed = |why: String| VmError::Modules {
        dir: path.to_path_buf(),
        why,
    };
    let raw = std::fs::read(path).map_err(|e| failed(format!("cannot read it: {e}")))?;
    let name = path.to_string_lossy();
    let mut out = Vec::new();
    if name.ends_with(".xz") {
        lzma_rs::xz_decompress(&mut raw.as_slice(), &mut out)
            .map_err(|e| failed(format!("cannot uncompress it (xz): {e}")))?;
    } else if name.ends_with(".zst") {
        ruzstd::decoding::StreamingDecoder::new(raw.as_slice())
            .map_err(|e| failed(format!("cannot uncompress it (zstd): {e}")))?
            .read_to_end(&mut out)
            .map_err(|e| failed(format!("cannot uncompress it (zstd): {e}")))?;
    } else if name.ends_with(".gz") {
        return Err(failed(
            "gzip-compressed modules are not supported: use xz or zstd".into(),
        ));
    } else {
        out = raw;
    }
    Ok(out)
}

/// Whether an ELF file asks for a program interpreter (PT_INTERP): then it is linked
/// dynamically and cannot run alone in the initramfs.
fn is_dynamic(elf: &[u8]) -> bool {
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let (Some(phoff), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return true;
    };
    (0..usize::from(count)).any(|i| {
        let at = usize::try_from(phoff)
            .unwrap_or(usize::MAX)
            .saturating_add(i * usize::from(size));
        elf.get(at..at + 4) == Some(&3u32.to_le_bytes()[..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "kernel/fs/overlayfs/overlay.ko.xz:
kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz
kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz
kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz
kernel/net/9p/9pnet.ko.xz: kernel/fs/netfs/netfs.ko.xz
kernel/fs/netfs/netfs.ko.xz:
kernel/drivers/virtio/virtio_ring.ko.xz:
";

    fn folder(dep: &str, builtin: &str) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("netspec-initramfs-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("modules.dep"), dep).unwrap();
        std::fs::write(dir.join("modules.builtin"), builtin).unwrap();
        dir
    }

    #[test]
    fn each_boot_module_comes_after_what_it_needs() {
        let dir = folder(DEP, "");
        let order = boot_modules(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let at = |m: &str| order.iter().position(|p| module_name(p) == m).unwrap();
        assert_eq!(order.len(), 7, "{order:?}");
        assert!(at("virtio_ring") < at("virtio_pci"));
        assert!(at("netfs") < at("9pnet") && at("9pnet") < at("9pnet_virtio"));
        assert!(at("9pnet") < at("9p"));
    }

    #[test]
    fn a_built_in_module_is_not_loaded_and_a_missing_one_is_named() {
        let dir = folder(DEP, "kernel/drivers/virtio/virtio_pci.ko\n");
        let order = boot_modules(&dir).unwrap();
        assert!(!order.iter().any(|p| module_name(p) == "virtio_pci"));
        std::fs::write(dir.join("modules.dep"), "kernel/fs/9p/9p.ko:\n").unwrap();
        let err = boot_modules(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("no module 9pnet_virtio"), "{err}");
    }

    #[test]
    fn names_ignore_folders_suffixes_and_dash_or_underscore() {
        assert_eq!(
            module_name("kernel/net/9p/9pnet_virtio.ko.zst"),
            "9pnet_virtio"
        );
        assert_eq!(module_name("overlay.ko"), "overlay");
        assert!(same_module("9pnet-virtio", "9pnet_virtio"));
        assert!(!same_module("9pnet", "9pnet_virtio"));
        assert!(!same_module("a-b", "a.b"));
    }

    #[test]
    fn a_share_path_with_a_newline_is_refused() {
        let share = |p: &str| Share {
            tag: "project",
            host: PathBuf::from("/x"),
            guest: Some(PathBuf::from(p)),
            writable: true,
        };
        assert_eq!(
            shares_file(&[share("/work/my project")]).unwrap(),
            "project rw,cache=mmap /work/my project\n"
        );
        assert!(shares_file(&[share("/a\nb")]).is_err());
        assert!(shares_file(&[share("relative")]).is_err());
    }

    #[test]
    fn the_static_busybox_is_told_from_a_dynamic_program() {
        if let Ok(bb) = std::fs::read(BUSYBOX) {
            assert!(!is_dynamic(&bb), "{BUSYBOX} is static here");
        }
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(is_dynamic(&me), "the test binary links glibc dynamically");
        assert!(
            is_dynamic(b"\x7fELF"),
            "a cut header counts as not runnable"
        );
    }
}
