//! VHDX: the region table at 192 KiB points to the metadata region, whose table holds the
//! virtual disk size.

use super::{le16, le32, le64, Inspection, Source};

const REGION_TABLE: u64 = 192 * 1024;
/// 8B7CA206-4790-4B9A-B8FE-575F050F886E, as stored (mixed endian).
const METADATA_REGION: [u8; 16] = guid(0x8B7C_A206, 0x4790, 0x4B9A, [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E]);
/// 2FA54224-CD1B-4876-B211-5DBED83BF4B8
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(0x2FA5_4224, 0xCD1B, 0x4876, [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8]);
/// A8D35F2D-B30B-454D-ABF7-D3D84834AB0C: a parent locator means a differencing disk.
const PARENT_LOCATOR: [u8; 16] = guid(0xA8D3_5F2D, 0xB30B, 0x454D, [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C]);

const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]
}

pub fn inspect(src: &mut dyn Source) -> std::io::Result<Inspection> {
    let mut i = Inspection::new("vhdx", src.len());
    let table = src.read_at(REGION_TABLE, 64 * 1024)?;
    if !table.starts_with(b"regi") {
        i.refuse("the vhdx region table is missing");
        return Ok(i);
    }
    let count = le32(&table, 8).unwrap_or(0).min(2047) as usize;
    let region = (0..count).find_map(|n| {
        let e = table.get(16 + n * 32..16 + n * 32 + 32)?;
        (e[..16] == METADATA_REGION).then(|| le64(e, 16))?
    });
    let Some(meta_offset) = region.filter(|o| *o < src.len()) else {
        i.refuse("inconsistent header: no metadata region inside the file");
        return Ok(i);
    };
    let meta = src.read_at(meta_offset, 64 * 1024)?;
    if !meta.starts_with(b"metadata") {
        i.refuse("inconsistent header: the metadata table is missing");
        return Ok(i);
    }
    let entries = le16(&meta, 10).unwrap_or(0).min(2047) as usize;
    for n in 0..entries {
        let Some(e) = meta.get(32 + n * 32..32 + n * 32 + 32) else { break };
        let id: [u8; 16] = e[..16].try_into().unwrap_or([0; 16]);
        let item = le32(e, 16).unwrap_or(0) as u64;
        if id == VIRTUAL_DISK_SIZE {
            let at = meta_offset.saturating_add(item);
            let v = src.read_at(at, 8)?;
            match le64(&v, 0) {
                Some(size) => i.virtual_size = Some(size),
                None => i.refuse("inconsistent header: the virtual size lies past the end of the file"),
            }
        } else if id == PARENT_LOCATOR {
            i.detail("type", "differencing (needs its parent disk)");
        }
    }
    if i.virtual_size.is_none() && i.refusals.is_empty() {
        i.refuse("the vhdx metadata has no virtual disk size");
    }
    Ok(i)
}
