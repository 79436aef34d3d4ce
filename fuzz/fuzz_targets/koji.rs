//! What comes back from Koji, on arbitrary bytes: an XML-RPC answer (which may hold
//! `<nil/>`, `<i8>` and faults) and an RPM file's lead and signature header, which
//! the download check reads to hash the payload. No panic; an RPM the hasher
//! accepts has a lead and header that fit inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_core::download::payload_md5;
use taskotron_core::koji::xmlrpc::{decode_response, from_json, to_json};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(Ok(value)) = decode_response(text) {
            // What we read we can write back and read again, unchanged.
            let again = to_json(&from_json(&value));
            assert_eq!(again, value);
        }
    }
    if payload_md5(data).is_ok() {
        assert!(data.len() >= 112);
    }
});
