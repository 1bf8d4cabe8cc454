//! Know the file before sending it: which disk format it holds, its virtual size, and whether
//! Glance would refuse it. Only bounded header regions are read, never the whole file.
//!
//! Glance 33 inspects the data while it arrives and answers 415 only after the upload; the
//! verdicts here mirror its rules (oslo.utils' format inspector, CVE-2024-32498) so that the
//! answer comes in a millisecond instead of after the bytes crossed the network.

mod iso;
mod qcow2;
mod vdi;
mod vhd;
mod vhdx;
mod vmdk;

use std::fs::File;
use std::path::Path;

use serde::Serialize;

/// The most any parser may read from one place, and in total.
pub const MAX_READ: usize = 1 << 20;
const MAX_TOTAL: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// Glance's name for the format: qcow2, vmdk, vhd, vhdx, vdi, iso or raw.
    pub format: String,
    /// The size of the disk the image describes, when the format says.
    pub virtual_size: Option<u64>,
    pub file_size: u64,
    /// Reasons Glance would refuse this file (empty: it would accept it).
    pub refusals: Vec<String>,
    /// Facts worth showing: subformat, cluster size, encryption, ...
    pub details: Vec<(String, String)>,
}

impl Inspection {
    pub fn acceptable(&self) -> bool {
        self.refusals.is_empty()
    }

    fn new(format: &str, file_size: u64) -> Inspection {
        Inspection { format: format.into(), virtual_size: None, file_size, refusals: vec![], details: vec![] }
    }

    fn refuse(&mut self, why: impl Into<String>) {
        self.refusals.push(why.into());
    }

    fn detail(&mut self, k: &str, v: impl ToString) {
        self.details.push((k.into(), v.to_string()));
    }
}

/// Random access to the first bytes of a file, within a budget.
pub trait Source {
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Up to `n` bytes at `offset` (fewer at the end of the file).
    fn read_at(&mut self, offset: u64, n: usize) -> std::io::Result<Vec<u8>>;
}

/// A file read through `pread` with a total budget, so no parser can read the whole file.
pub struct FileSource {
    file: File,
    len: u64,
    spent: usize,
}

impl FileSource {
    /// Open a regular file (see [`crate::safe_fs::open_regular`]).
    pub fn open(path: &Path) -> std::io::Result<FileSource> {
        let (file, meta) = crate::safe_fs::open_regular(path)?;
        Ok(FileSource { file, len: meta.len(), spent: 0 })
    }

    /// An already open file of `len` bytes. Reads are positional: the file's own position is
    /// left where it was.
    pub fn from_file(file: File, len: u64) -> FileSource {
        FileSource { file, len, spent: 0 }
    }

    pub fn into_file(self) -> File {
        self.file
    }
}

/// A positioned read: `pread` on Unix; on Windows `seek_read`, which moves the file's cursor
/// (the upload's reader starts from offset 0 itself, so that does not matter).
#[cfg(unix)]
fn pread(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn pread(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, n: usize) -> std::io::Result<Vec<u8>> {
        let n = n.min(MAX_READ);
        if self.spent + n > MAX_TOTAL {
            return Err(std::io::Error::other("header reads exceed the inspection budget"));
        }
        self.spent += n;
        if offset >= self.len {
            return Ok(Vec::new());
        }
        let n = n.min((self.len - offset) as usize);
        let mut buf = vec![0; n];
        let mut got = 0;
        while got < n {
            match pread(&self.file, &mut buf[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(got);
        Ok(buf)
    }
}

/// In-memory bytes, for tests and fuzzing.
impl Source for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&mut self, offset: u64, n: usize) -> std::io::Result<Vec<u8>> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(<[u8]>::len(self));
        let end = start.saturating_add(n.min(MAX_READ)).min(<[u8]>::len(self));
        Ok(self[start..end].to_vec())
    }
}

/// Inspect a file on disk.
pub fn inspect_path(path: &Path) -> std::io::Result<Inspection> {
    let mut src = FileSource::open(path)?;
    inspect(&mut src)
}

/// Identify the format and judge it. Order matters: an ISO with a GPT (a hybrid ISO) is an
/// ISO, as Glance treats it; a VHD footer at the end is checked only when nothing else matched.
pub fn inspect(src: &mut dyn Source) -> std::io::Result<Inspection> {
    let mut i = identify(src)?;
    // Glance's inspector needs a whole 512-byte header before it calls a file anything but
    // raw: a shorter file with a format's magic is junk it would read as raw data.
    if i.file_size < 512 && i.format != "raw" && i.acceptable() {
        let (n, f) = (i.file_size, i.format.clone());
        i.refuse(format!("the file is only {n} bytes, too short for a {f} header (Glance would read it as raw data)"));
    }
    Ok(i)
}

fn identify(src: &mut dyn Source) -> std::io::Result<Inspection> {
    let len = src.len();
    let head = src.read_at(0, 512)?;
    if head.starts_with(b"QFI\xfb") {
        return qcow2::inspect(src, &head);
    }
    if head.starts_with(b"vhdxfile") {
        return vhdx::inspect(src);
    }
    if head.starts_with(b"KDMV") {
        return vmdk::inspect_sparse(src, &head);
    }
    if head.starts_with(b"# Disk DescriptorFile") {
        return vmdk::inspect_descriptor_file(&head, len, src);
    }
    if head.len() >= 0x48 && head[0x40..0x44] == 0xbeda107fu32.to_le_bytes() {
        return Ok(vdi::inspect(&head, len));
    }
    if head.starts_with(b"conectix") {
        return Ok(vhd::inspect(&head, len));
    }
    if head.starts_with(b"QED\0") {
        // Glance's inspector (oslo.utils) bans QED outright: a 415 as raw and as qcow2.
        let mut i = Inspection::new("qed", len);
        i.refuse("it is a QED image, a format Glance refuses outright (convert it: qemu-img convert -O qcow2)");
        return Ok(i);
    }
    if let Some(i) = iso::inspect(src)? {
        return Ok(i);
    }
    let mut i = Inspection::new("raw", len);
    i.virtual_size = Some(len);
    if head.starts_with(b"LUKS\xba\xbe") {
        // Glance takes a LUKS container declared raw, once its inspector has checked the
        // 592-byte header, and only LUKS version 1.
        i.detail("container", "LUKS (encrypted)");
        match be16(&head, 6) {
            _ if len < 592 => i.refuse("its LUKS header is truncated, so Glance cannot check it"),
            Some(1) => {}
            v => {
                i.refuse(format!("it is LUKS version {}, and Glance checks (and takes) only version 1", v.unwrap_or(0)))
            }
        }
        return Ok(i);
    }
    check_partition_table(&head, &mut i);
    if len >= 512 && src.read_at(len - 512, 512)?.starts_with(b"conectix") {
        // A fixed VHD is raw data with a footer at the end. Glance (and qemu) read only the
        // start, see raw, and answer 415 to `vhd`: so it is raw here too, and boots as such.
        i.detail("vhd footer", "fixed VHD: its footer is at the end, so Glance reads it as raw");
    }
    Ok(i)
}

/// A raw disk that starts with an MBR (or a GPT's protective MBR) must pass the check Glance's
/// inspector makes of it (oslo.utils' `GPTInspector`, "mbr"): boot flags 0x00 or 0x80, a
/// protective entry that starts at CHS 0/2/0 and LBA 1 and stands alone, and at least one
/// partition. A FAT boot sector looks like an MBR and is not one.
fn check_partition_table(head: &[u8], i: &mut Inspection) {
    if head.len() < 512 || le16(head, 510) != Some(0xAA55) {
        return;
    }
    let is_fat = head[0x10] == 2 && head[0x15] == 0xF8;
    if is_fat {
        return;
    }
    let mut used = Vec::new();
    let mut gpt = false;
    for n in 0..4 {
        let e = &head[446 + 16 * n..446 + 16 * (n + 1)];
        let (boot, chs, ostype, lba) = (e[0], [e[1], e[2], e[3]], e[4], le32(e, 8).unwrap_or(0));
        if boot != 0x00 && boot != 0x80 {
            return i.refuse(format!(
                "its MBR's partition entry {n} has an invalid boot flag ({boot:#04x}), which Glance refuses"
            ));
        }
        if ostype != 0 {
            used.push(n);
        }
        if ostype == 0xEE {
            gpt = true;
            if chs != [0, 2, 0] || lba != 1 {
                return i.refuse("its GPT's protective MBR does not start where a GPT's must (CHS 0/2/0, LBA 1), which Glance refuses");
            }
        }
    }
    if gpt && used != [0] {
        return i.refuse("its GPT's protective MBR defines other partitions too, which Glance refuses");
    }
    if used.is_empty() {
        return i.refuse("it has an MBR signature but no partition in it, which Glance refuses");
    }
    i.detail("partition table", if gpt { "GPT" } else { "MBR" });
}

/// May a file detected as `detected` be declared as `declared`? `Err` explains; `force`
/// allows only what Glance would still accept (declaring raw, which it never checks).
pub fn check_declared(detected: &str, declared: &str, force: bool) -> Result<(), String> {
    // Formats Glance does not inspect (ploop, ami, …) or does not know are Glance's to judge.
    const INSPECTED: &[&str] = &["raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"];
    if detected == declared || !INSPECTED.contains(&declared) {
        return Ok(());
    }
    if declared == "raw" && force {
        return Ok(());
    }
    let hint = if declared == "raw" {
        format!(" (Glance would accept it as raw, but it would not boot as a {detected} disk; --force to declare raw anyway)")
    } else {
        format!(" (Glance would answer 415 after the upload; use --disk-format {detected})")
    };
    Err(format!("the file holds {detected} data, not {declared}{hint}"))
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
pub(crate) fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
pub(crate) fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
pub(crate) fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {

    /// A 512-byte boot sector with the MBR signature and these partition entries
    /// (boot flag, start CHS, type, start LBA).
    fn mbr(entries: &[(u8, [u8; 3], u8, u32)]) -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        for (n, (boot, chs, ty, lba)) in entries.iter().enumerate() {
            let e = 446 + 16 * n;
            b[e] = *boot;
            b[e + 1..e + 4].copy_from_slice(chs);
            b[e + 4] = *ty;
            b[e + 8..e + 12].copy_from_slice(&lba.to_le_bytes());
        }
        b[510] = 0x55;
        b[511] = 0xAA;
        b
    }

    fn judge(bytes: &[u8]) -> Inspection {
        let mut src: &[u8] = bytes;
        inspect(&mut src).unwrap()
    }

    /// Glance's inspector refuses raw disks whose MBR fails its check, and QED outright.
    #[test]
    fn partition_tables_and_qed_are_judged_as_glance_does() {
        let linux = judge(&mbr(&[(0x80, [0, 1, 1], 0x83, 2048)]));
        assert!(linux.acceptable(), "{:?}", linux.refusals);
        assert!(linux.details.contains(&("partition table".into(), "MBR".into())));
        let gpt = judge(&mbr(&[(0, [0, 2, 0], 0xEE, 1)]));
        assert!(gpt.acceptable(), "{:?}", gpt.refusals);
        for (bad, why) in [
            (mbr(&[(0x12, [0, 1, 1], 0x83, 2048)]), "invalid boot flag"),
            (mbr(&[(0, [0, 3, 0], 0xEE, 1)]), "does not start where"),
            (mbr(&[(0, [0, 2, 0], 0xEE, 1), (0, [0, 1, 1], 0x83, 2048)]), "other partitions"),
            (mbr(&[]), "no partition"),
        ] {
            let i = judge(&bad);
            assert_eq!(i.format, "raw");
            assert!(i.refusals.iter().any(|r| r.contains(why)), "{why}: {:?}", i.refusals);
        }
        // A FAT boot sector carries the same signature and is not an MBR.
        let mut fat = mbr(&[(0x12, [0, 1, 1], 0x83, 2048)]);
        fat[0x10] = 2;
        fat[0x15] = 0xF8;
        assert!(judge(&fat).acceptable());
        let luks = |version: u16, len: usize| {
            let mut b = vec![0u8; len];
            b[..6].copy_from_slice(b"LUKS\xba\xbe");
            b[6..8].copy_from_slice(&version.to_be_bytes());
            judge(&b)
        };
        let v1 = luks(1, 4096);
        assert!(v1.acceptable() && v1.format == "raw", "{v1:?}");
        assert!(luks(2, 4096).refusals[0].contains("LUKS version 2"));
        assert!(luks(1, 591).refusals[0].contains("truncated"));
        let mut qed = vec![0u8; 4096];
        qed[..4].copy_from_slice(b"QED\0");
        let i = judge(&qed);
        assert_eq!(i.format, "qed");
        assert!(i.refusals[0].contains("QED"), "{:?}", i.refusals);
    }

    use super::*;

    #[test]
    fn unknown_bytes_are_raw() {
        let data = vec![7u8; 4096];
        let i = inspect(&mut data.as_slice()).unwrap();
        assert_eq!(i.format, "raw");
        assert_eq!(i.virtual_size, Some(4096));
        assert!(i.acceptable());
    }

    #[test]
    fn declared_format_rules() {
        assert!(check_declared("qcow2", "qcow2", false).is_ok());
        let e = check_declared("qcow2", "raw", false).unwrap_err();
        assert!(e.contains("holds qcow2 data, not raw") && e.contains("--force"), "{e}");
        assert!(check_declared("qcow2", "raw", true).is_ok());
        assert!(check_declared("raw", "ploop", false).is_ok());
        let e = check_declared("raw", "qcow2", true).unwrap_err();
        assert!(e.contains("415") && e.contains("--disk-format raw"), "{e}");
    }

    fn qcow2(version: u32, edit: impl FnOnce(&mut Vec<u8>)) -> Inspection {
        let mut h = vec![0u8; 4096];
        h[0..4].copy_from_slice(b"QFI\xfb");
        h[4..8].copy_from_slice(&version.to_be_bytes());
        h[20..24].copy_from_slice(&16u32.to_be_bytes());
        h[24..32].copy_from_slice(&(1u64 << 30).to_be_bytes());
        h[100..104].copy_from_slice(&104u32.to_be_bytes());
        edit(&mut h);
        inspect(&mut h.as_slice()).unwrap()
    }

    #[test]
    fn hostile_qcow2_headers() {
        assert!(qcow2(3, |_| {}).acceptable());
        let i = qcow2(3, |h| {
            h[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
            h[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        });
        assert_eq!(
            i.refusals,
            ["it has a backing file ((unreadable name)): Glance refuses qcow2 images that point to other files"]
        );
        let i = qcow2(3, |h| h[20..24].copy_from_slice(&0u32.to_be_bytes()));
        assert!(i.refusals[0].contains("cluster size 2^0"), "{i:?}");
        let i = qcow2(3, |h| h[100..104].copy_from_slice(&u32::MAX.to_be_bytes()));
        assert!(i.refusals[0].contains("header length"), "{i:?}");
        let i = qcow2(3, |h| h[72..80].copy_from_slice(&(1u64 << 40).to_be_bytes()));
        assert!(i.refusals[0].contains("unknown incompatible features"), "{i:?}");
        let i = qcow2(7, |_| {});
        assert_eq!(i.refusals, ["unknown qcow2 version 7"]);
        // A header extension whose length would run past the end stops the walk.
        let i = qcow2(3, |h| {
            h[104..108].copy_from_slice(&0x4441_5441u32.to_be_bytes());
            h[108..112].copy_from_slice(&u32::MAX.to_be_bytes());
        });
        assert!(i.refusals[0].contains("external data file"), "{i:?}");
    }

    fn vmdk(edit: impl FnOnce(&mut Vec<u8>)) -> Inspection {
        let mut h = vec![0u8; 2048];
        h[0..4].copy_from_slice(b"KDMV");
        h[12..20].copy_from_slice(&2048u64.to_le_bytes());
        h[28..36].copy_from_slice(&1u64.to_le_bytes());
        h[36..44].copy_from_slice(&2u64.to_le_bytes());
        let d = b"createType=\"monolithicSparse\"\nRW 2048 SPARSE \"x.vmdk\"\n";
        h[512..512 + d.len()].copy_from_slice(d);
        edit(&mut h);
        inspect(&mut h.as_slice()).unwrap()
    }

    #[test]
    fn hostile_vmdk_headers() {
        let ok = vmdk(|_| {});
        assert!(ok.acceptable(), "{ok:?}");
        assert_eq!(ok.virtual_size, Some(2048 * 512));
        let i = vmdk(|h| h[12..20].copy_from_slice(&u64::MAX.to_le_bytes()));
        assert!(i.refusals[0].contains("overflows"), "{i:?}");
        // The descriptor must follow the header (sector 1), where Glance's inspector reads it.
        for sector in [u64::MAX, 1000, 2] {
            let i = vmdk(|h| h[28..36].copy_from_slice(&sector.to_le_bytes()));
            assert!(i.refusals[0].contains("not right after the header"), "{i:?}");
        }
        let i = vmdk(|h| h[36..44].copy_from_slice(&u64::MAX.to_le_bytes()));
        assert!(i.refusals[0].contains("overflows"), "{i:?}");
        let i = vmdk(|h| {
            let d = b"createType=\"twoGbMaxExtentSparse\"\nRW 1 SPARSE \"a\"\nRW 1 SPARSE \"b\"\n";
            h[512..512 + d.len()].copy_from_slice(d);
        });
        assert_eq!(i.refusals.len(), 2, "{i:?}");
        let i = vmdk(|h| h[512..1536].fill(b'x'));
        assert_eq!(i.refusals[0], "the vmdk descriptor has no createType");
        assert!(i.refusals.iter().any(|r| r.contains("names no extent")), "{i:?}");
        // Glance's inspector reads the descriptor line by line and refuses what it does not
        // know, and extents that name a path.
        for (d, why) in [
            (
                &b"createType=\"monolithicSparse\"\nRW 2048 SPARSE \"a.vmdk\"\nrm -rf /\n"[..],
                "a line Glance does not accept",
            ),
            (&b"createType=\"monolithicSparse\"\nRW 2048 SPARSE \"../../etc/x.vmdk\"\n"[..], "names a path"),
        ] {
            let i = vmdk(|h| {
                h[512..1536].fill(0);
                h[512..512 + d.len()].copy_from_slice(d);
            });
            assert!(i.refusals.iter().any(|r| r.contains(why)), "{why}: {i:?}");
        }
    }

    #[test]
    fn hostile_vhdx_and_vdi() {
        let mut h = vec![0u8; 300 * 1024];
        h[..8].copy_from_slice(b"vhdxfile");
        let i = inspect(&mut h.as_slice()).unwrap();
        assert_eq!(i.refusals, ["the vhdx region table is missing"]);
        h[192 * 1024..192 * 1024 + 4].copy_from_slice(b"regi");
        h[192 * 1024 + 8..192 * 1024 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let i = inspect(&mut h.as_slice()).unwrap();
        assert!(i.refusals[0].contains("no metadata region"), "{i:?}");
        let mut v = vec![0u8; 0x48];
        v[0x40..0x44].copy_from_slice(&0xbeda107fu32.to_le_bytes());
        let i = inspect(&mut v.as_slice()).unwrap();
        assert_eq!(
            (i.format.as_str(), i.refusals.as_slice()),
            ("vdi", &["the vdi header is truncated".to_string()][..])
        );
    }

    #[test]
    fn truncated_and_hostile_headers_never_panic() {
        // Every prefix of every magic, and garbage after each.
        let magics: [&[u8]; 6] = [b"QFI\xfb", b"vhdxfile", b"KDMV", b"# Disk DescriptorFile", b"conectix", b"CD001"];
        let mut x: u32 = 1;
        for m in magics {
            for cut in 0..600 {
                let mut data = m.to_vec();
                while data.len() < cut {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    data.push((x >> 3) as u8);
                }
                let _ = inspect(&mut data.as_slice());
                let mut ff = m.to_vec();
                ff.resize(cut.max(m.len()), 0xff);
                let _ = inspect(&mut ff.as_slice());
            }
        }
    }
}
