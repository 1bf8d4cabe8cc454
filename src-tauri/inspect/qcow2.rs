//! qcow2 v2 and v3: the header and its extensions.

use super::{be32, be64, Inspection, Source};

const EXT_END: u32 = 0;
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
const EXT_FULL_DISK_ENCRYPTION: u32 = 0x0537_be77;
const EXT_DATA_FILE: u32 = 0x4441_5441;
const INCOMPAT_DIRTY: u64 = 1;
const INCOMPAT_CORRUPT: u64 = 1 << 1;
const INCOMPAT_DATA_FILE: u64 = 1 << 2;
const INCOMPAT_COMPRESSION: u64 = 1 << 3;
const INCOMPAT_EXTL2: u64 = 1 << 4;
const INCOMPAT_KNOWN: u64 =
    INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;

pub fn inspect(src: &mut dyn Source, head: &[u8]) -> std::io::Result<Inspection> {
    let len = src.len();
    let mut i = Inspection::new("qcow2", len);
    let (Some(version), Some(backing_offset), Some(backing_len), Some(cluster_bits), Some(size), Some(crypt)) =
        (be32(head, 4), be64(head, 8), be32(head, 16), be32(head, 20), be64(head, 24), be32(head, 32))
    else {
        i.refuse("the qcow2 header is truncated");
        return Ok(i);
    };
    i.detail("qcow2 version", version);
    if !(2..=3).contains(&version) {
        i.refuse(format!("unknown qcow2 version {version}"));
        return Ok(i);
    }
    i.virtual_size = Some(size);
    if !(9..=21).contains(&cluster_bits) {
        i.refuse(format!("inconsistent header: cluster size 2^{cluster_bits} is outside 512 B..2 MiB"));
    } else {
        i.detail("cluster size", 1u64 << cluster_bits);
    }
    match crypt {
        0 => {}
        1 => i.detail("encryption", "aes (legacy)"),
        2 => i.detail("encryption", "luks"),
        n => i.refuse(format!("unknown encryption method {n}")),
    }
    if backing_offset != 0 {
        let name = if backing_len > 0 && backing_len <= 1023 && backing_offset < len {
            let b = src.read_at(backing_offset, backing_len as usize)?;
            String::from_utf8_lossy(&b).into_owned()
        } else {
            String::from("(unreadable name)")
        };
        i.detail("backing file", &name);
        i.refuse(format!("it has a backing file ({name}): Glance refuses qcow2 images that point to other files"));
    }
    let (incompat, header_len, compression) = if version >= 3 {
        let Some(incompat) = be64(head, 72) else {
            i.refuse("the qcow2 v3 header is truncated");
            return Ok(i);
        };
        let header_len = be32(head, 100).unwrap_or(0);
        if !(104..=512).contains(&header_len) {
            i.refuse(format!("inconsistent header: header length {header_len}"));
        }
        let compression = if header_len > 104 { head.get(104).copied().unwrap_or(0) } else { 0 };
        (incompat, header_len.clamp(104, 512) as usize, compression)
    } else {
        (0, 72, 0)
    };
    if incompat & INCOMPAT_DATA_FILE != 0 {
        i.refuse("it uses an external data file: Glance refuses qcow2 images whose data lives in another file");
    }
    if incompat & INCOMPAT_CORRUPT != 0 {
        i.refuse("the image is marked corrupt");
    }
    if incompat & !INCOMPAT_KNOWN != 0 {
        i.refuse(format!("unknown incompatible features 0x{:x}", incompat & !INCOMPAT_KNOWN));
    }
    if incompat & INCOMPAT_COMPRESSION != 0 || compression != 0 {
        i.detail("compression type", if compression == 1 { "zstd" } else { "zlib" });
    }
    // Header extensions, within the first cluster.
    let mut at = header_len;
    let ext = src.read_at(0, 4096.min(1usize << cluster_bits.clamp(9, 21)))?;
    for _ in 0..64 {
        let (Some(kind), Some(n)) = (be32(&ext, at), be32(&ext, at + 4)) else { break };
        let data = ext.get(at + 8..(at + 8).saturating_add(n as usize));
        match kind {
            EXT_END => break,
            EXT_DATA_FILE => {
                let name = data.map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_default();
                i.detail("data file", &name);
                if incompat & INCOMPAT_DATA_FILE == 0 {
                    i.refuse(format!("it names an external data file ({name})"));
                }
            }
            EXT_BACKING_FORMAT => {
                if let Some(d) = data {
                    i.detail("backing format", String::from_utf8_lossy(d));
                }
            }
            EXT_FULL_DISK_ENCRYPTION => {}
            _ => {}
        }
        let Some(next) = at.checked_add(8).and_then(|a| a.checked_add((n as usize).div_ceil(8) * 8)) else { break };
        at = next;
    }
    Ok(i)
}
