//! fmf's merge operators on arbitrary parent and child data (two YAML documents
//! split at the first NUL byte): an answer or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_tap::yaml;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (parent, child) = text.split_once('\0').unwrap_or((text, ""));
    let (Ok(parent), Ok(child)) = (yaml::parse(parent, None), yaml::parse(child, None)) else {
        return;
    };
    let mut base = parent.into_entries();
    let _ = taskotron_fmf::merge::merge_into(&mut base, child.as_map().unwrap_or_default());
});
