//! libnftables, the library behind the `nft` tool, loaded at run time. The same parser
//! and the same kernel requests as `nft -f`, without starting a process and linking a
//! dozen libraries for each ruleset (about 1-2 ms a run). Where the library is missing,
//! callers fall back to the `nft` program.
//!
//! Calls are serialized: libnftables contexts are independent, but the library keeps
//! some global state, and it is not documented as thread-safe.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::io;
use std::sync::{Mutex, OnceLock};

use crate::netns::Netns;

type CtxNew = unsafe extern "C" fn(u32) -> *mut c_void;
type CtxFree = unsafe extern "C" fn(*mut c_void);
type Buffer = unsafe extern "C" fn(*mut c_void) -> c_int;
type GetBuffer = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type RunCmd = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
type SetFlags = unsafe extern "C" fn(*mut c_void, u32);

/// NFT_CTX_OUTPUT_JSON, as `nft -j` sets it.
const OUTPUT_JSON: u32 = 1 << 4;

struct Lib {
    ctx_new: CtxNew,
    ctx_free: CtxFree,
    buffer_output: Buffer,
    buffer_error: Buffer,
    output: GetBuffer,
    error: GetBuffer,
    run_file: RunCmd,
    output_set_flags: SetFlags,
}

static LIB: OnceLock<Option<Lib>> = OnceLock::new();
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lib() -> Option<&'static Lib> {
    LIB.get_or_init(|| {
        // SAFETY: dlopen and dlsym with NUL-terminated names; each symbol is cast to the
        // signature that libnftables(3) documents for it. The library is never closed.
        unsafe {
            let h = libc::dlopen(
                c"libnftables.so.1".as_ptr(),
                libc::RTLD_NOW | libc::RTLD_LOCAL,
            );
            if h.is_null() {
                return None;
            }
            let sym = |name: &CStr| {
                let p = libc::dlsym(h, name.as_ptr());
                (!p.is_null()).then_some(p)
            };
            Some(Lib {
                ctx_new: std::mem::transmute::<*mut c_void, CtxNew>(sym(c"nft_ctx_new")?),
                ctx_free: std::mem::transmute::<*mut c_void, CtxFree>(sym(c"nft_ctx_free")?),
                buffer_output: std::mem::transmute::<*mut c_void, Buffer>(sym(
                    c"nft_ctx_buffer_output",
                )?),
                buffer_error: std::mem::transmute::<*mut c_void, Buffer>(sym(
                    c"nft_ctx_buffer_error",
                )?),
                output: std::mem::transmute::<*mut c_void, GetBuffer>(sym(
                    c"nft_ctx_get_output_buffer",
                )?),
                error: std::mem::transmute::<*mut c_void, GetBuffer>(sym(
                    c"nft_ctx_get_error_buffer",
                )?),
                run_file: std::mem::transmute::<*mut c_void, RunCmd>(sym(
                    c"nft_run_cmd_from_filename",
                )?),
                output_set_flags: std::mem::transmute::<*mut c_void, SetFlags>(sym(
                    c"nft_ctx_output_set_flags",
                )?),
            })
        }
    })
    .as_ref()
}

/// Whether libnftables loads on this machine.
pub(crate) fn available() -> bool {
    lib().is_some()
}

/// What one run of commands gave: success, standard output and the error text.
#[derive(Debug)]
pub(crate) struct Answer {
    pub ok: bool,
    pub output: String,
    pub error: String,
}

/// Runs nft commands (a ruleset, or `list ruleset`) in the node, with JSON output
/// when `json` is set (`nft -j`); None when libnftables cannot be loaded. A ruleset is
/// read from a memfd, as `nft -f` reads a file, because only then do its errors name
/// the line (`/proc/self/fd/N:4:11-14:`).
pub(crate) fn run(ns: &Netns, commands: &str, json: bool) -> Option<io::Result<Answer>> {
    let lib = lib()?;
    Some(ruleset_file(commands).and_then(|(file, path)| {
        ns.run_in(move || {
            let answer = in_context(lib, &path, json);
            drop(file);
            answer
        })
    }))
}

/// The ruleset in an anonymous memory file, and the path that names it.
fn ruleset_file(commands: &str) -> io::Result<(std::fs::File, CString)> {
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: memfd_create with a NUL-terminated name; the fd is owned by the File.
    let fd = unsafe { libc::memfd_create(c"netspec-ruleset".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd that we own.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(commands.as_bytes())?;
    let path = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(|_| io::Error::other("fd path"))?;
    Ok((file, path))
}

/// One libnftables context, created, used and freed on the calling thread.
fn in_context(lib: &Lib, path: &CStr, json: bool) -> io::Result<Answer> {
    // The context opens its netlink socket in the namespace of the thread that runs it.
    {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: a context is created, used and freed on this thread only; the buffers
        // it returns are copied before it is freed.
        unsafe {
            let ctx = (lib.ctx_new)(0);
            if ctx.is_null() {
                return Err(io::Error::other("nft_ctx_new failed"));
            }
            if json {
                (lib.output_set_flags)(ctx, OUTPUT_JSON);
            }
            (lib.buffer_output)(ctx);
            (lib.buffer_error)(ctx);
            let rc = (lib.run_file)(ctx, path.as_ptr());
            let read = |p: *const c_char| {
                if p.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(p).to_string_lossy().into_owned()
                }
            };
            let answer = Answer {
                ok: rc == 0,
                output: read((lib.output)(ctx)),
                error: read((lib.error)(ctx)),
            };
            (lib.ctx_free)(ctx);
            Ok(answer)
        }
    }
}
