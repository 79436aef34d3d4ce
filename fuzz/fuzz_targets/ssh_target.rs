//! `--ssh` destinations on arbitrary text: no panic, and what parses prints back
//! to a text that parses to the same destination, with nothing a shell or ssh
//! would read as an option.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_core::SshTarget;

fuzz_target!(|text: &str| {
    if let Ok(t) = text.parse::<SshTarget>() {
        let shown = t.to_string();
        assert_eq!(shown.parse::<SshTarget>().as_ref(), Ok(&t));
        assert!(!t.user.starts_with('-') && !t.host.starts_with('-'));
        assert!(!shown.contains(char::is_whitespace));
    }
});
