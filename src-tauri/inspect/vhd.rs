//! VHD (qemu's "vpc"): the 512-byte footer copy at the start of a dynamic disk. (A fixed disk
//! has its footer only at the end; Glance and qemu read such a file as raw, and so do we.)

use super::{be32, be64, Inspection};

/// Creator applications whose `current_size` qemu trusts; for others it uses the CHS geometry.
const TRUSTS_CURRENT_SIZE: &[&[u8; 4]] = &[b"win ", b"qem2", b"d2v ", b"CTXS", b"tap\0", b"vpc "];

pub fn inspect(footer: &[u8], len: u64) -> Inspection {
    let mut i = Inspection::new("vhd", len);
    // Glance's inspector needs the whole 512-byte footer; with less it "cannot be safety
    // checked" and the upload is refused.
    let (Some(current), Some(kind), true) = (be64(footer, 48), be32(footer, 60), len >= 512) else {
        i.refuse("the vhd footer is truncated (less than 512 bytes), so Glance cannot check it");
        return i;
    };
    let creator: [u8; 4] = footer[28..32].try_into().unwrap_or([0; 4]);
    let cyl = u16::from_be_bytes([footer[56], footer[57]]) as u64;
    let (heads, spt) = (footer[58] as u64, footer[59] as u64);
    let chs = cyl * heads * spt * 512;
    let max_chs = 65535 * 16 * 255 * 512;
    let size = if TRUSTS_CURRENT_SIZE.iter().any(|c| **c == creator) || chs >= max_chs { current } else { chs };
    // A footer whose geometry is zeroed (corrupt) would give a 0-byte disk: take its own
    // current size, as Glance does; if that is 0 too, the footer is no footer.
    let size = if size == 0 { current } else { size };
    if size == 0 {
        i.refuse("the vhd footer gives a disk size of 0: it is corrupt");
    }
    i.virtual_size = Some(size);
    i.detail("creator", String::from_utf8_lossy(&creator).trim_end_matches('\0'));
    match kind {
        2 => i.detail("type", "fixed"),
        3 => i.detail("type", "dynamic"),
        4 => i.detail("type", "differencing (needs its parent disk)"),
        n => i.refuse(format!("unknown vhd disk type {n}")),
    }
    if kind == 2 && current.checked_add(512) != Some(len) {
        i.refuse(format!("inconsistent footer: a fixed disk of {current} bytes in a {len}-byte file"));
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer(creator: &[u8; 4], current: u64, chs: (u16, u8, u8), kind: u32) -> Vec<u8> {
        let mut f = vec![0u8; 512];
        f[..8].copy_from_slice(b"conectix");
        f[28..32].copy_from_slice(creator);
        f[40..48].copy_from_slice(&current.to_be_bytes());
        f[48..56].copy_from_slice(&current.to_be_bytes());
        f[56..58].copy_from_slice(&chs.0.to_be_bytes());
        f[58] = chs.1;
        f[59] = chs.2;
        f[60..64].copy_from_slice(&kind.to_be_bytes());
        f
    }

    /// Where Glance's inspector and Stackdrop disagreed: a zeroed geometry gave a 0-byte disk,
    /// and a footer shorter than 512 bytes (which Glance cannot check) was accepted.
    #[test]
    fn corrupt_or_short_footers() {
        let mib = 1 << 20;
        let zeroed_geometry = inspect(&footer(b"abcd", 64 * mib, (0, 0, 0), 3), 4 * mib);
        assert_eq!(zeroed_geometry.virtual_size, Some(64 * mib));
        assert!(zeroed_geometry.acceptable(), "{:?}", zeroed_geometry.refusals);
        let nothing = inspect(&footer(b"abcd", 0, (0, 0, 0), 3), 4 * mib);
        assert!(nothing.refusals[0].contains("disk size of 0"), "{:?}", nothing.refusals);
        let short = footer(b"win ", 64 * mib, (0, 0, 0), 3);
        let i = inspect(&short[..300], 300);
        assert!(i.refusals[0].contains("truncated"), "{:?}", i.refusals);
        let qemu = inspect(&footer(b"qem2", 64 * mib, (1, 16, 63), 3), 4 * mib);
        assert_eq!((qemu.virtual_size, qemu.acceptable()), (Some(64 * mib), true));
    }
}
