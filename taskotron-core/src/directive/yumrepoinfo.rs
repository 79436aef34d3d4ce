//! `yumrepoinfo`: a Koji tag, and each of its parents, to repository URLs per
//! arch, from `yumrepoinfo.conf` (config `yumrepoinfo`, else the original's
//! `/etc/taskotron/yumrepoinfo.conf`). Returns `{repo: {arch: url}}`, as the
//! original did.

use serde_json::{Map, Value};

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::yumrepoinfo::{basearch, YumRepoInfo as Info};

/// Where the original looked when nothing else is configured.
pub const SYSTEM_FILE: &str = "/etc/taskotron/yumrepoinfo.conf";

/// The `yumrepoinfo` directive.
pub struct YumRepoInfo;

static SPEC: Spec = Spec {
    name: "yumrepoinfo",
    summary: "translate a Koji tag (and its parents) into repository URLs per arch",
    shape: Shape::Params {
        params: &[
            Param {
                name: "koji_tag",
                required: true,
                kind: ParamKind::Str,
                doc: "the tag (`f28-updates`; `-pending` is stripped; `rawhide` works)",
            },
            Param {
                name: "arch",
                required: true,
                kind: ParamKind::Any,
                doc: "an arch or a list; `all`, `src` and `noarch` are ignored",
            },
        ],
        extra: false,
    },
    returns: "{repository: {arch: url}} for the tag's repository and every parent",
    exactly_one: &[],
};

impl Directive for YumRepoInfo {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let tag = super::text_param(params, "koji_tag");
        let arches: Vec<String> = match params.get("arch") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(other) => vec![other.to_string()],
            None => Vec::new(),
        };
        let real: Vec<&String> = arches
            .iter()
            .filter(|a| !matches!(a.as_str(), "all" | "src" | "noarch"))
            .collect();
        if real.is_empty() {
            return Err(Failure::new(format!(
                "yumrepoinfo: no real arch among {arches:?} (all, src and noarch are ignored); give one such as x86_64"
            )));
        }
        let path = ctx
            .services
            .yumrepoinfo
            .clone()
            .unwrap_or_else(|| SYSTEM_FILE.into());
        let info = Info::load(&path).map_err(|d| {
            Failure::new(format!(
                "yumrepoinfo: {}{}",
                crate::diagnostic::render_all(std::slice::from_ref(&*d)).trim_end(),
                if ctx.services.yumrepoinfo.is_none() {
                    " (set `yumrepoinfo` in the config to the file to use)"
                } else {
                    ""
                }
            ))
        })?;
        let mut out: Map<String, Value> = Map::new();
        for arch in real {
            let chain = info
                .chain(&tag, arch)
                .map_err(|e| Failure::new(format!("yumrepoinfo: {e} in {}", path.display())))?;
            for repo in chain {
                let entry = out
                    .entry(repo.name.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.insert(basearch(arch).to_string(), Value::String(repo.url));
                }
            }
        }
        Ok(Value::Object(out))
    }
}
