//! The "newc" cpio format, the one the kernel unpacks as an initramfs.

/// An archive being written in memory.
#[derive(Debug, Default)]
pub(crate) struct Cpio {
    bytes: Vec<u8>,
    next_ino: u32,
}

const DIR: u32 = 0o040_000;
const FILE: u32 = 0o100_000;
const CHAR_DEVICE: u32 = 0o020_000;

impl Cpio {
    pub(crate) fn dir(&mut self, name: &str) {
        self.entry(name, DIR | 0o755, (0, 0), &[]);
    }

    pub(crate) fn file(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.entry(name, FILE | mode, (0, 0), data);
    }

    /// A character device node, such as /dev/console (5, 1), which the kernel opens
    /// for init's standard streams before init runs.
    pub(crate) fn char_device(&mut self, name: &str, major: u32, minor: u32) {
        self.entry(name, CHAR_DEVICE | 0o600, (major, minor), &[]);
    }

    /// Ends the archive and returns its bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.bytes
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.next_ino += 1;
        let fields = [
            self.next_ino,
            mode,
            0, // uid
            0, // gid
            if mode & DIR != 0 { 2 } else { 1 },
            0, // mtime: the same bytes on every run
            u32::try_from(data.len()).expect("an initramfs member over 4 GiB"),
            0,
            0,
            rdev.0,
            rdev.1,
            u32::try_from(name.len() + 1).expect("a short name"),
            0, // check
        ];
        self.bytes.extend_from_slice(b"070701");
        for f in fields {
            self.bytes.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_a_newc_header_its_name_and_its_data_each_padded_to_four() {
        let mut c = Cpio::default();
        c.file("init", 0o755, b"hello");
        let bytes = c.finish();
        assert_eq!(&bytes[..6], b"070701");
        let field = |i: usize| {
            let at = 6 + i * 8;
            u32::from_str_radix(std::str::from_utf8(&bytes[at..at + 8]).unwrap(), 16).unwrap()
        };
        assert_eq!(field(1), 0o100_755, "mode");
        assert_eq!(field(6), 5, "size");
        assert_eq!(field(11), 5, "name length with its NUL");
        // 110 header bytes + "init\0" = 115, padded to 116; then 5 data bytes padded to 8.
        assert_eq!(&bytes[110..115], b"init\0");
        assert_eq!(&bytes[116..121], b"hello");
        assert_eq!(&bytes[124..130], b"070701", "the trailer starts aligned");
        assert!(bytes.ends_with(&[0]) && bytes.len().is_multiple_of(4));
        let trailer = String::from_utf8_lossy(&bytes[124..]);
        assert!(trailer.contains("TRAILER!!!"));
    }

    #[test]
    fn a_device_node_carries_its_major_and_minor() {
        let mut c = Cpio::default();
        c.char_device("dev/console", 5, 1);
        let bytes = c.finish();
        let field = |i: usize| {
            let at = 6 + i * 8;
            u32::from_str_radix(std::str::from_utf8(&bytes[at..at + 8]).unwrap(), 16).unwrap()
        };
        assert_eq!(field(1), 0o020_600);
        assert_eq!((field(9), field(10)), (5, 1));
    }
}
