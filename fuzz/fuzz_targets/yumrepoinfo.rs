//! yumrepoinfo.conf from arbitrary text: no panic, parse errors carry a line, and
//! every tag of an accepted file resolves (or says why) for every arch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_core::yumrepoinfo::YumRepoInfo;

fuzz_target!(|text: &str| {
    match YumRepoInfo::parse(text) {
        Err(d) => assert!(d.location.is_some(), "a parse error points at its line"),
        Ok(info) => {
            let repos: Vec<String> = info.repos().map(str::to_string).collect();
            for arch in ["x86_64", "i686", "aarch64"] {
                for repo in &repos {
                    if let Ok(tag) = info.get(repo, "tag", arch) {
                        let _ = info.chain(&tag, arch);
                    }
                }
                let _ = info.chain("rawhide", arch);
            }
        }
    }
});
