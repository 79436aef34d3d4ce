//! Rules files and messages from arbitrary text: no panic; every job's item fits its
//! type. The first line is read both as a JSON-lines message and, as an AMQP delivery
//! would bring it, as the raw body of each topic a consumer reads.
#![no_main]

use std::path::Path;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use taskotron_trigger::trigger::{Message, Rules, Trigger};
use taskotron_core::Arch;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first line is a message, the rest a rules file.
    let (message, rules) = text.split_once('\n').unwrap_or((text, ""));
    let rules = Rules::load(rules, Path::new("fuzz.yml")).unwrap_or_else(|_| {
        Rules::load("- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [t]}]\n", Path::new("r")).expect("valid rules")
    });
    let mut trigger = Trigger::new(rules, vec![Arch::X86_64], Duration::from_secs(900), vec![]);
    let mut messages: Vec<Message> = Message::parse(message).into_iter().collect();
    for topic in ["org.fedoraproject.prod.buildsys.build.state.change", "org.fedoraproject.prod.buildsys.tag", "org.fedoraproject.prod.bodhi.update.edit"] {
        messages.extend(Message::from_body(Some("fuzz"), topic, message.to_string()));
    }
    for m in &messages {
        for job in trigger.handle(m, SystemTime::UNIX_EPOCH).jobs {
            assert!(job.item_type.validate(&job.item).is_ok());
        }
    }
});
