//! VMDK: the sparse extent header with its embedded descriptor, or a descriptor-only file.
//! Glance accepts only the single-file types `monolithicSparse` and `streamOptimized`.

use super::{le64, Inspection, Source};

const ALLOWED: &[&str] = &["monolithicSparse", "streamOptimized"];
/// Glance reads at most this much descriptor text.
const MAX_DESCRIPTOR: u64 = 64 * 1024;

pub fn inspect_sparse(src: &mut dyn Source, head: &[u8]) -> std::io::Result<Inspection> {
    let mut i = Inspection::new("vmdk", src.len());
    let (Some(capacity), Some(desc_sector), Some(desc_sectors)) = (le64(head, 12), le64(head, 28), le64(head, 36))
    else {
        i.refuse("the vmdk header is truncated");
        return Ok(i);
    };
    match capacity.checked_mul(512) {
        Some(v) => i.virtual_size = Some(v),
        None => i.refuse(format!("inconsistent header: capacity of {capacity} sectors overflows")),
    }
    if desc_sector == 0 || desc_sectors == 0 {
        i.refuse("the vmdk has no embedded descriptor, so its type cannot be checked");
        return Ok(i);
    }
    if desc_sector != 1 {
        // Glance's inspector reads the descriptor only right after the header.
        i.refuse(format!(
            "the vmdk's descriptor is at sector {desc_sector}, not right after the header, where Glance reads it"
        ));
        return Ok(i);
    }
    let (Some(offset), Some(size)) = (desc_sector.checked_mul(512), desc_sectors.checked_mul(512)) else {
        i.refuse("inconsistent header: the descriptor position overflows");
        return Ok(i);
    };
    if offset.saturating_add(size.min(MAX_DESCRIPTOR)) > src.len() {
        i.refuse("inconsistent header: the descriptor lies past the end of the file");
        return Ok(i);
    }
    let text = src.read_at(offset, size.min(MAX_DESCRIPTOR) as usize)?;
    judge_descriptor(&mut i, &text, false);
    Ok(i)
}

/// A text descriptor file (monolithicFlat, twoGbMaxExtent…): the data lives in other files.
pub fn inspect_descriptor_file(head: &[u8], len: u64, src: &mut dyn Source) -> std::io::Result<Inspection> {
    let mut i = Inspection::new("vmdk", len);
    let text =
        if len as usize > head.len() { src.read_at(0, len.min(MAX_DESCRIPTOR) as usize)? } else { head.to_vec() };
    let total = judge_descriptor(&mut i, &text, true);
    i.virtual_size = total;
    Ok(i)
}

/// Check `createType` and the extents; returns the total size the extents describe.
fn judge_descriptor(i: &mut Inspection, text: &[u8], standalone: bool) -> Option<u64> {
    let text = String::from_utf8_lossy(text);
    let text = text.split('\0').next().unwrap_or_default();
    let mut create_type = None;
    let mut total: Option<u64> = Some(0);
    let mut extents = 0;
    let mut odd_line = None;
    let mut path_in_extent = false;
    for line in text.lines().take(10_000) {
        let line = line.trim();
        // What Glance's inspector (oslo.utils) accepts, line by line: comments, `ddb…`,
        // `key=value`, and extents (RW, RDONLY, NOACCESS) that name no path.
        let lower = line.to_ascii_lowercase();
        let first = lower.split(' ').next().unwrap_or_default();
        let is_field = lower.split_once('=').is_some_and(|(k, _)| !k.contains(' '));
        let is_extent = ["rw", "rdonly", "noaccess"].contains(&first);
        if !(line.is_empty() || line.starts_with('#') || lower.starts_with("ddb") || is_field || is_extent) {
            odd_line.get_or_insert_with(|| line.chars().take(60).collect::<String>());
        }
        if is_extent && line.contains('/') {
            path_in_extent = true;
        }
        if let Some(v) = line.strip_prefix("createType=") {
            create_type = Some(v.trim_matches('"').to_owned());
        } else if line.starts_with("RW ") || line.starts_with("RDONLY ") || line.starts_with("NOACCESS ") {
            extents += 1;
            let sectors: Option<u64> = line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
            total = match (total, sectors.and_then(|s| s.checked_mul(512))) {
                (Some(t), Some(s)) => t.checked_add(s),
                _ => None,
            };
            let kind = line.split_whitespace().nth(2).unwrap_or_default();
            if standalone || kind != "SPARSE" {
                let file = line.split('"').nth(1).unwrap_or_default();
                i.detail("extent", format!("{kind} {file}"));
            }
        }
    }
    match create_type {
        Some(t) => {
            i.detail("create type", &t);
            if !ALLOWED.contains(&t.as_str()) {
                i.refuse(format!(
                    "vmdk type {t} keeps its data in other files; Glance accepts only monolithicSparse and streamOptimized"
                ));
            }
        }
        None => i.refuse("the vmdk descriptor has no createType"),
    }
    if extents > 1 {
        i.refuse(format!("the vmdk has {extents} extents; Glance accepts single-extent images only"));
    }
    if extents == 0 {
        i.refuse("the vmdk descriptor names no extent");
    }
    if let Some(line) = odd_line {
        i.refuse(format!("the vmdk descriptor holds a line Glance does not accept: {line:?}"));
    }
    if path_in_extent {
        i.refuse("a vmdk extent names a path (with '/'), which Glance refuses");
    }
    total
}
