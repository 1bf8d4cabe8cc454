//! VirtualBox VDI: the header after the 64-byte text banner.

use super::{le32, le64, Inspection};

pub fn inspect(head: &[u8], len: u64) -> Inspection {
    let mut i = Inspection::new("vdi", len);
    let version = le32(head, 0x44).unwrap_or(0);
    i.detail("version", format!("{}.{}", version >> 16, version & 0xffff));
    match (le32(head, 0x4c), le64(head, 0x170)) {
        (Some(kind), Some(size)) => {
            i.virtual_size = Some(size);
            match kind {
                1 => i.detail("type", "dynamic"),
                2 => i.detail("type", "fixed"),
                n => i.detail("type", format!("{n}")),
            }
        }
        _ => i.refuse("the vdi header is truncated"),
    }
    i
}
