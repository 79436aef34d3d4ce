//! Greenwave policies: `--- !Policy` YAML documents, from configuration
//! (`gating_policies`) or from a package's `gating.yaml` ([`Origin::Remote`]).
//!
//! The keys and defaults are Greenwave's: `id` (optional in `gating.yaml`),
//! `product_versions` (wildcards; `gating.yaml` defaults to every version),
//! `decision_context` and/or `decision_contexts`, `subject_type` (or
//! `subject_types`; `gating.yaml` defaults to `koji_build`), `rules` (may be empty),
//! `packages`, `excluded_packages` and the older `blacklist`; `relevance_key` and
//! `relevance_value` are read and have no effect, as in Greenwave for these subject
//! types. Rules: `!PassingTestCaseRule {test_case_name, scenario, valid_since,
//! valid_until}` and `!RemoteRule {required}` (refused inside `gating.yaml`); the
//! obsolete `!PackageSpecificBuild` and `!FedoraAtomicCi` are refused with
//! Greenwave's advice. Pure: the text comes in, policies or diagnostics come out.

use std::path::Path;

use taskotron_tap::diagnostic::Location;
use taskotron_tap::suggest::did_you_mean;
use taskotron_tap::yaml::{parse_stream, Node, NodeValue, Stream};
use taskotron_tap::Diagnostic;

/// Where policies come from, which decides their defaults and what they may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The deployment's own policies (`gating_policies`): `id`, `product_versions`
    /// and `subject_type` are required.
    Config,
    /// A package's dist-git `gating.yaml`: `id` optional, `product_versions`
    /// defaults to `*`, `subject_type` to `koji_build`, no `!RemoteRule`.
    Remote,
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The latest result of `test_case_name` for every architecture, variant and
    /// scenario must pass (PASSED or INFO) or be waived.
    PassingTestCase {
        /// The ResultsDB testcase.
        test_case_name: String,
        /// Only results with this `scenario` count.
        scenario: Option<String>,
        /// The rule applies from this time (ISO 8601) on.
        valid_since: Option<String>,
        /// The rule applies until this time (ISO 8601).
        valid_until: Option<String>,
    },
    /// Read the package's `gating.yaml` at the build's commit and apply its policies.
    Remote {
        /// A missing `gating.yaml` is `missing-gating-yaml` rather than nothing.
        required: bool,
    },
}

/// One policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its id; `gating.yaml` policies may have none.
    pub id: Option<String>,
    /// Product versions it applies to (`fedora-*`).
    pub product_versions: Vec<String>,
    /// The gating points it applies at.
    pub decision_contexts: Vec<String>,
    /// The subject types it applies to.
    pub subject_types: Vec<String>,
    /// Its rules, in order.
    pub rules: Vec<Rule>,
    /// When set, only these packages (wildcards) are gated.
    pub packages: Vec<String>,
    /// Packages (wildcards) it never gates; wins over `packages`.
    pub excluded_packages: Vec<String>,
    /// Packages it never gates, by exact name (Greenwave's older `blacklist`).
    pub blacklist: Vec<String>,
    /// Where it was written: the file as given and the document's start.
    pub source: String,
}

const KEYS: [&str; 12] = [
    "id",
    "product_versions",
    "decision_context",
    "decision_contexts",
    "subject_type",
    "subject_types",
    "rules",
    "packages",
    "excluded_packages",
    "blacklist",
    "relevance_key",
    "relevance_value",
];

const RULES: [&str; 2] = ["PassingTestCaseRule", "RemoteRule"];

impl Policy {
    /// The policy's name in messages and `applicable_policies`: its id, or
    /// `untitled` as Greenwave says.
    pub fn name(&self) -> &str {
        self.id.as_deref().unwrap_or("untitled")
    }

    /// Whether it applies to `subject_type` at one of `contexts` for
    /// `product_version`.
    pub fn applies_to(
        &self,
        contexts: &[String],
        product_version: &str,
        subject_type: &str,
    ) -> bool {
        self.decision_contexts.iter().any(|c| contexts.contains(c))
            && self.matches_product_version(product_version)
            && self.subject_types.iter().any(|t| t == subject_type)
    }

    /// Whether one of its product versions (wildcards) matches.
    pub fn matches_product_version(&self, product_version: &str) -> bool {
        self.product_versions
            .iter()
            .any(|v| crate::glob::matches(v, product_version))
    }
}

/// Reads every `!Policy` document of `source` (the text of `file`).
///
/// # Errors
/// Every problem found, each at its place: YAML errors, a document without the
/// `!Policy` tag, unknown keys (with a suggestion), values of the wrong kind,
/// missing required keys, unknown or obsolete rules, `!RemoteRule` in a
/// `gating.yaml`, and a file with no policy at all.
pub fn parse_policies(
    source: &str,
    file: Option<&Path>,
    origin: Origin,
) -> Result<Vec<Policy>, Vec<Diagnostic>> {
    let stream = parse_stream(source, file)?;
    let mut reader = Reader {
        source,
        file,
        stream: &stream,
        errors: Vec::new(),
    };
    let mut policies = Vec::new();
    for doc in &stream.documents {
        if matches!(doc.value, NodeValue::Null) {
            continue;
        }
        if let Some(p) = reader.policy(doc, origin) {
            policies.push(p);
        }
    }
    if policies.is_empty() && reader.errors.is_empty() {
        reader.errors.push(
            Diagnostic::error("no policies defined")
                .at(file, source, Location { line: 1, column: 1 }, 1)
                .expected("at least one `--- !Policy` document"),
        );
    }
    if reader.errors.is_empty() {
        Ok(policies)
    } else {
        Err(reader.errors)
    }
}

struct Reader<'a> {
    source: &'a str,
    file: Option<&'a Path>,
    stream: &'a Stream,
    errors: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(
        &mut self,
        node: &Node,
        message: String,
        expected: Option<&str>,
        help: Option<String>,
    ) {
        let mut d =
            Diagnostic::error(message).at(self.file, self.source, node.location, node.width);
        if let Some(e) = expected {
            d = d.expected(e);
        }
        if let Some(h) = help {
            d = d.help(h);
        }
        self.errors.push(d);
    }

    fn string(&mut self, node: &Node, key: &str) -> Option<String> {
        match &node.value {
            NodeValue::Str(s, _) => Some(s.clone()),
            // Greenwave reads YAML 1.1 scalars as Python does; a bare number is a
            // string to it once it is used as one. Only a string is a string here.
            _ => {
                self.error(
                    node,
                    format!("`{key}` must be a string, found {}", node.kind()),
                    Some("a string"),
                    None,
                );
                None
            }
        }
    }

    fn strings(&mut self, node: &Node, key: &str) -> Option<Vec<String>> {
        let Some(items) = node.as_seq() else {
            self.error(
                node,
                format!("`{key}` must be a list of strings, found {}", node.kind()),
                Some("a list such as [fedora-*]"),
                None,
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.string(item, key)?);
        }
        Some(out)
    }

    fn policy(&mut self, doc: &Node, origin: Origin) -> Option<Policy> {
        if self.stream.tag_of(doc) != Some("Policy") {
            let found = self
                .stream
                .tag_of(doc)
                .map_or("no tag".to_string(), |t| format!("`!{t}`"));
            self.error(
                doc,
                format!("missing !Policy tag ({found})"),
                Some("a document that starts `--- !Policy`"),
                None,
            );
            return None;
        }
        let Some(entries) = doc.as_map() else {
            self.error(
                doc,
                format!("a policy must be a mapping, found {}", doc.kind()),
                Some("keys such as `id`, `product_versions`, `rules`"),
                None,
            );
            return None;
        };
        let before = self.errors.len();
        let mut p = Policy {
            id: None,
            product_versions: Vec::new(),
            decision_contexts: Vec::new(),
            subject_types: Vec::new(),
            rules: Vec::new(),
            packages: Vec::new(),
            excluded_packages: Vec::new(),
            blacklist: Vec::new(),
            source: format!(
                "{}:{}",
                self.file
                    .map_or("<policy>".into(), |f| f.display().to_string()),
                doc.location.line
            ),
        };
        let (mut versions, mut subject, mut rules) = (false, false, false);
        for (k, v) in entries {
            let key = k.key_text();
            match key.as_str() {
                "id" => p.id = self.string(v, "id"),
                "product_versions" => {
                    versions = true;
                    p.product_versions = self.strings(v, "product_versions").unwrap_or_default();
                }
                "decision_context" => {
                    if let Some(c) = self.string(v, "decision_context") {
                        if !p.decision_contexts.contains(&c) {
                            p.decision_contexts.push(c);
                        }
                    }
                }
                "decision_contexts" => {
                    for c in self.strings(v, "decision_contexts").unwrap_or_default() {
                        if !p.decision_contexts.contains(&c) {
                            p.decision_contexts.push(c);
                        }
                    }
                }
                "subject_type" => {
                    subject = true;
                    p.subject_types.extend(self.string(v, "subject_type"));
                }
                "subject_types" => {
                    subject = true;
                    p.subject_types
                        .extend(self.strings(v, "subject_types").unwrap_or_default());
                }
                "rules" => {
                    rules = true;
                    p.rules = self.rules(v, origin);
                }
                "packages" => p.packages = self.strings(v, "packages").unwrap_or_default(),
                "excluded_packages" => {
                    p.excluded_packages = self.strings(v, "excluded_packages").unwrap_or_default()
                }
                "blacklist" => p.blacklist = self.strings(v, "blacklist").unwrap_or_default(),
                "relevance_key" | "relevance_value" => {
                    self.string(v, &key);
                }
                other => {
                    let help = did_you_mean(other, KEYS).map(|s| format!("did you mean `{s}`?"));
                    self.error(
                        k,
                        format!("unknown key `{other}` in a policy"),
                        Some("one of `id`, `product_versions`, `decision_contexts`, `subject_type`, `rules`, `packages`, `excluded_packages`"),
                        help,
                    );
                }
            }
        }
        let name = p.name().to_string();
        let missing = |what: &str| format!("policy {name}: `{what}` is required");
        if origin == Origin::Config && p.id.is_none() {
            self.error(doc, missing("id"), Some("`id: some-name`"), None);
        }
        if !versions {
            match origin {
                Origin::Config => self.error(
                    doc,
                    missing("product_versions"),
                    Some("`product_versions: [fedora-*]`"),
                    None,
                ),
                Origin::Remote => p.product_versions = vec!["*".into()],
            }
        }
        if p.decision_contexts.is_empty() && self.errors.len() == before {
            self.error(
                doc,
                missing("decision_context"),
                Some("`decision_contexts: [bodhi_update_push_stable]`"),
                None,
            );
        }
        if !subject {
            match origin {
                Origin::Config => self.error(
                    doc,
                    missing("subject_type"),
                    Some("`subject_type: koji_build`"),
                    None,
                ),
                Origin::Remote => p.subject_types = vec!["koji_build".into()],
            }
        }
        if !rules {
            self.error(
                doc,
                missing("rules"),
                Some("`rules: []` or a list of rules"),
                None,
            );
        }
        (self.errors.len() == before).then_some(p)
    }

    fn rules(&mut self, node: &Node, origin: Origin) -> Vec<Rule> {
        let Some(items) = node.as_seq() else {
            self.error(
                node,
                format!("`rules` must be a list, found {}", node.kind()),
                Some("a list of `!PassingTestCaseRule {test_case_name: ...}`"),
                None,
            );
            return Vec::new();
        };
        items.iter().filter_map(|r| self.rule(r, origin)).collect()
    }

    fn rule(&mut self, node: &Node, origin: Origin) -> Option<Rule> {
        let Some(tag) = self.stream.tag_of(node) else {
            self.error(
                node,
                "a rule needs its type as a tag".into(),
                Some("`!PassingTestCaseRule {test_case_name: ...}` or `!RemoteRule {}`"),
                None,
            );
            return None;
        };
        let tag = tag.to_string();
        match tag.as_str() {
            "PackageSpecificBuild" | "FedoraAtomicCi" => {
                self.error(
                    node,
                    format!("!{tag} is obsolete"),
                    None,
                    Some("use the policy's `packages` list instead".into()),
                );
                return None;
            }
            "PassingTestCaseRule" | "RemoteRule" => {}
            other => {
                let help = did_you_mean(other, RULES).map(|s| format!("did you mean `!{s}`?"));
                self.error(
                    node,
                    format!("unknown rule `!{other}`"),
                    Some("`!PassingTestCaseRule` or `!RemoteRule`"),
                    help,
                );
                return None;
            }
        }
        let empty = Vec::new();
        let entries: &[(Node, Node)] = match &node.value {
            NodeValue::Map(e) => e,
            NodeValue::Null => &empty,
            _ => {
                self.error(
                    node,
                    format!("!{tag} must be a mapping, found {}", node.kind()),
                    Some("`{test_case_name: ...}`"),
                    None,
                );
                return None;
            }
        };
        if tag == "RemoteRule" {
            if origin == Origin::Remote {
                self.error(
                    node,
                    "RemoteRule is not allowed in remote policies".into(),
                    None,
                    Some("a package's gating.yaml lists !PassingTestCaseRule rules".into()),
                );
                return None;
            }
            let mut required = false;
            for (k, v) in entries {
                match (k.key_text().as_str(), &v.value) {
                    ("required", NodeValue::Bool(b)) => required = *b,
                    ("required", _) => {
                        self.error(
                            v,
                            "`required` must be true or false".into(),
                            Some("a boolean"),
                            None,
                        );
                        return None;
                    }
                    (other, _) => {
                        let help = did_you_mean(other, ["required"])
                            .map(|s| format!("did you mean `{s}`?"));
                        self.error(
                            k,
                            format!("unknown key `{other}` in !RemoteRule"),
                            Some("`required`"),
                            help,
                        );
                        return None;
                    }
                }
            }
            return Some(Rule::Remote { required });
        }
        let (mut name, mut scenario, mut since, mut until) = (None, None, None, None);
        for (k, v) in entries {
            let key = k.key_text();
            match key.as_str() {
                "test_case_name" => name = self.string(v, "test_case_name"),
                "scenario" => {
                    scenario = match v.value {
                        NodeValue::Null => None,
                        _ => self.string(v, "scenario"),
                    }
                }
                "valid_since" => since = self.string(v, "valid_since"),
                "valid_until" => until = self.string(v, "valid_until"),
                other => {
                    let help = did_you_mean(
                        other,
                        ["test_case_name", "scenario", "valid_since", "valid_until"],
                    )
                    .map(|s| format!("did you mean `{s}`?"));
                    self.error(
                        k,
                        format!("unknown key `{other}` in !PassingTestCaseRule"),
                        Some("`test_case_name`, `scenario`, `valid_since`, `valid_until`"),
                        help,
                    );
                    return None;
                }
            }
        }
        let Some(test_case_name) = name else {
            self.error(
                node,
                "!PassingTestCaseRule: `test_case_name` is required".into(),
                Some("`{test_case_name: fedora-ci.koji-build.tier0.functional}`"),
                None,
            );
            return None;
        };
        Some(Rule::PassingTestCase {
            test_case_name,
            scenario,
            valid_since: since,
            valid_until: until,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEDORA: &str = "--- !Policy
product_versions: [fedora-*]
decision_contexts: [bodhi_update_push_testing]
subject_type: koji_build
rules:
  - !PassingTestCaseRule {test_case_name: fedora-ci.koji-build.tier0.functional}
";

    #[test]
    fn reads_fedoras_usual_gating_yaml() {
        let p = parse_policies(FEDORA, None, Origin::Remote).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name(), "untitled");
        assert_eq!(p[0].subject_types, ["koji_build"]);
        assert_eq!(
            p[0].rules,
            [Rule::PassingTestCase {
                test_case_name: "fedora-ci.koji-build.tier0.functional".into(),
                scenario: None,
                valid_since: None,
                valid_until: None
            }]
        );
        assert!(p[0].applies_to(
            &["bodhi_update_push_testing".into()],
            "fedora-41",
            "koji_build"
        ));
        assert!(!p[0].applies_to(
            &["bodhi_update_push_stable".into()],
            "fedora-41",
            "koji_build"
        ));
        assert!(!p[0].applies_to(
            &["bodhi_update_push_testing".into()],
            "epel-9",
            "koji_build"
        ));
    }

    #[test]
    fn several_documents_and_both_context_keys() {
        let text = "--- !Policy
id: a
product_versions: [fedora-41]
decision_context: bodhi_update_push_stable
decision_contexts: [bodhi_update_push_stable_critpath]
subject_type: bodhi_update
rules: []
--- !Policy
id: b
product_versions: ['*']
decision_context: x
subject_types: [koji_build, compose]
excluded_packages: [kernel*]
rules:
  - !RemoteRule {required: true}
";
        let p = parse_policies(text, None, Origin::Config).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].decision_contexts,
            [
                "bodhi_update_push_stable",
                "bodhi_update_push_stable_critpath"
            ]
        );
        assert_eq!(p[1].rules, [Rule::Remote { required: true }]);
        assert_eq!(p[1].subject_types, ["koji_build", "compose"]);
    }

    fn first_error(text: &str, origin: Origin) -> Diagnostic {
        parse_policies(text, Some(Path::new("gating.yaml")), origin)
            .unwrap_err()
            .swap_remove(0)
    }

    #[test]
    fn refusals_have_places_and_suggestions() {
        let d = first_error(
            "--- !Policy\nproduct_version: [fedora-*]\ndecision_context: x\nrules: []\n",
            Origin::Remote,
        );
        assert_eq!(d.message, "unknown key `product_version` in a policy");
        assert_eq!(d.location.unwrap().line, 2);
        assert_eq!(d.help.as_deref(), Some("did you mean `product_versions`?"));

        let d = first_error("---\nid: x\n", Origin::Remote);
        assert!(
            d.message.starts_with("missing !Policy tag"),
            "{}",
            d.message
        );

        let d = first_error(
            "--- !Policy\ndecision_context: x\nrules:\n  - !PassingTestCase {test_case_name: a}\n",
            Origin::Remote,
        );
        assert_eq!(d.message, "unknown rule `!PassingTestCase`");
        assert_eq!(d.location.unwrap().line, 4);
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `!PassingTestCaseRule`?")
        );

        let d = first_error(
            "--- !Policy\ndecision_context: x\nrules:\n  - !RemoteRule {}\n",
            Origin::Remote,
        );
        assert_eq!(d.message, "RemoteRule is not allowed in remote policies");

        let d = first_error(
            "--- !Policy\ndecision_context: x\nrules: {a: 1}\n",
            Origin::Remote,
        );
        assert!(
            d.message.starts_with("`rules` must be a list"),
            "{}",
            d.message
        );

        let d = first_error(
            "--- !Policy\nid: a\ndecision_context: x\nsubject_type: koji_build\nrules: []\n",
            Origin::Config,
        );
        assert_eq!(d.message, "policy a: `product_versions` is required");

        let d = first_error("", Origin::Remote);
        assert_eq!(d.message, "no policies defined");

        let d = first_error("--- !Policy\n: [\n", Origin::Remote);
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);

        let d = first_error(
            "--- !Policy\ndecision_context: x\nrules:\n  - !PackageSpecificBuild {test_case_name: a, repos: [b]}\n",
            Origin::Remote,
        );
        assert_eq!(d.message, "!PackageSpecificBuild is obsolete");
    }
}
