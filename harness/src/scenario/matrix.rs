//! `matrix:` one file, several trials. Each combination of the matrix's values gives a
//! variant: the file's text with `${key}` (or `"${key}"`, quoted to stay valid YAML
//! inside `{ }`) replaced by the bare value, named `name[key=value,...]`. Substitution keeps every line where it was, so diagnostics
//! still point at the right line. Other `${...}` (a shell variable in an `exec`) stay.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::diag::{did_you_mean, Diagnostic, LoadError};
use super::raw::Scalar;
use super::spans::{Pos, SpanIndex};

/// The most values one key may take, and the most trials one file may give.
pub(super) const MAX_VALUES: usize = 32;
pub(super) const MAX_VARIANTS: usize = 64;
/// The most text a matrix expands to, all its trials together.
/// As much as one file may hold: a matrix costs no more to load than the biggest file.
pub(super) const MAX_EXPANDED_BYTES: usize = super::resolve::MAX_FILE_BYTES;

/// Only the `matrix` key, read before the rest.
#[derive(Deserialize)]
struct MatrixOnly {
    #[serde(default)]
    matrix: Option<BTreeMap<String, Vec<Scalar>>>,
}

/// One trial's text and the suffix of its name (empty without a matrix).
#[derive(Debug, Clone)]
pub(super) struct Variant {
    pub(super) suffix: String,
    pub(super) src: String,
}

fn err(file: &Path, src: &str, pos: Pos, msg: String, hint: &str) -> LoadError {
    LoadError {
        diagnostics: vec![Diagnostic::new(file, src, pos, msg).hint(Some(hint.to_string()))],
    }
}

fn word_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

/// The variants of a file. A file without `matrix:` is its own one variant; a broken
/// YAML file is too, and its load reports the error.
pub(super) fn expand(file: &Path, src: &str) -> Result<Vec<Variant>, LoadError> {
    let one = || {
        vec![Variant {
            suffix: String::new(),
            src: src.to_string(),
        }]
    };
    let Ok(MatrixOnly {
        matrix: Some(matrix),
    }) = serde_norway::from_str::<MatrixOnly>(src)
    else {
        return Ok(one());
    };
    check(file, src, &matrix)?;
    typos(file, src, &matrix)?;
    Ok(product(&matrix)
        .into_iter()
        .map(|c| substitute(src, &c))
        .collect())
}

/// Keys, values and the size of the product: what can become a trial's name.
fn check(file: &Path, src: &str, matrix: &BTreeMap<String, Vec<Scalar>>) -> Result<(), LoadError> {
    let spans = SpanIndex::build(src);
    for (key, values) in matrix {
        if !word_ok(key) || key.contains(['.', ':']) {
            let msg = format!("invalid matrix key `{}`", key.escape_debug());
            return Err(err(
                file,
                src,
                spans.key(&format!("matrix.{key}")),
                msg,
                "a key is letters, digits and `_`, at most 32",
            ));
        }
        if values.is_empty() || values.len() > MAX_VALUES {
            let msg = format!("matrix key `{key}` has {} values", values.len());
            return Err(err(
                file,
                src,
                spans.value(&format!("matrix.{key}")),
                msg,
                &format!("give 1 to {MAX_VALUES} values"),
            ));
        }
        if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !word_ok(&v.0)) {
            let msg = format!(
                "matrix value `{}` cannot be part of a trial's name",
                v.0.escape_debug()
            );
            return Err(err(
                file,
                src,
                spans.value(&format!("matrix.{key}.{i}")),
                msg,
                "a value is letters, digits, `.`, `-`, `_` and `:`, at most 32",
            ));
        }
    }
    let total = matrix
        .values()
        .try_fold(1usize, |n, v| n.checked_mul(v.len()));
    if total.is_none_or(|n| n > MAX_VARIANTS) {
        let msg = format!("the matrix gives more than {MAX_VARIANTS} trials");
        return Err(err(
            file,
            src,
            spans.value("matrix"),
            msg,
            "split the file, or give fewer values",
        ));
    }
    // Each trial is its own copy of the text, parsed on its own: the copies together
    // are bounded, so that loading stays linear in what the user wrote.
    let total = total.unwrap_or(0);
    if total.saturating_mul(src.len()) > MAX_EXPANDED_BYTES {
        let msg = format!(
            "the matrix gives {total} trials of {} bytes each, {} bytes in all; netspec expands at most {MAX_EXPANDED_BYTES}",
            src.len(),
            total.saturating_mul(src.len())
        );
        return Err(err(
            file,
            src,
            spans.value("matrix"),
            msg,
            "split the file, or give fewer values",
        ));
    }
    Ok(())
}

/// Every combination, in key order, the first key changing slowest.
fn product(matrix: &BTreeMap<String, Vec<Scalar>>) -> Vec<Vec<(&str, &str)>> {
    let mut combos: Vec<Vec<(&str, &str)>> = vec![Vec::new()];
    for (key, values) in matrix {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((key.as_str(), v.0.as_str()));
                    c
                })
            })
            .collect();
    }
    combos
}

/// One combination's text and name suffix. `"${k}"` becomes the bare value too: a
/// template quotes it to stay YAML inside `{ }`, and the value must still read as the
/// number it is.
fn substitute(src: &str, c: &[(&str, &str)]) -> Variant {
    let mut text = src.to_string();
    for (k, v) in c {
        for form in [
            format!("\"${{{k}}}\""),
            format!("'${{{k}}}'"),
            format!("${{{k}}}"),
        ] {
            text = text.replace(&form, v);
        }
    }
    let pairs: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Variant {
        suffix: format!("[{}]", pairs.join(",")),
        src: text,
    }
}

/// `${familly}` next to a key `family` is a typo, not a shell variable.
fn typos(file: &Path, src: &str, matrix: &BTreeMap<String, Vec<Scalar>>) -> Result<(), LoadError> {
    for (line_no, line) in src.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            let name = &after[..end];
            if !matrix.contains_key(name) {
                if let Some(m) = did_you_mean(name, matrix.keys().map(String::as_str)) {
                    let col = line.len() - rest.len() + start + 1;
                    let pos = Pos {
                        line: line_no + 1,
                        col,
                    };
                    let msg = format!("`${{{name}}}` is not a matrix key");
                    return Err(err(
                        file,
                        src,
                        pos,
                        msg,
                        &format!("did you mean `${{{m}}}`?"),
                    ));
                }
            }
            rest = &after[end..];
        }
    }
    Ok(())
}

/// Each variant's name suffix and text, for tools that read the YAML themselves (the
/// schema test validates these, since `${key}` itself may not fit its field).
pub fn variant_sources(file: &Path, src: &str) -> Result<Vec<(String, String)>, LoadError> {
    Ok(expand(file, src)?
        .into_iter()
        .map(|v| (v.suffix, v.src))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Result<Vec<String>, String> {
        expand(Path::new("m.yaml"), src)
            .map(|v| v.into_iter().map(|v| v.suffix).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn expands_the_product_in_key_order() {
        let src = "matrix:\n  b: [1, 2]\n  a: [x, y]\nnodes: {}\n";
        assert_eq!(
            names(src).unwrap(),
            ["[a=x,b=1]", "[a=x,b=2]", "[a=y,b=1]", "[a=y,b=2]"]
        );
        let v = expand(Path::new("m.yaml"), "matrix: {k: [v1]}\nx: ${k} ${HOME}\n").unwrap();
        assert_eq!(
            v[0].src, "matrix: {k: [v1]}\nx: v1 ${HOME}\n",
            "others stay"
        );
        assert_eq!(
            names("nodes: {}\n").unwrap(),
            [""],
            "no matrix, one variant"
        );
    }

    #[test]
    fn refuses_what_would_not_make_a_name_or_would_explode() {
        // 64 trials of a 300 KB file: 19 MB to parse, past the 4 MiB bound.
        let heavy = format!(
            "matrix:\n  a: [{}]\n  b: [{}]\ndescription: x\n{}",
            (0..8).map(|i| i.to_string()).collect::<Vec<_>>().join(","),
            (0..8).map(|i| i.to_string()).collect::<Vec<_>>().join(","),
            "# padding\n".repeat(30_000)
        );
        let big = format!(
            "matrix:\n  a: [{}]\n  b: [{}]\n",
            (0..9).map(|i| i.to_string()).collect::<Vec<_>>().join(","),
            (0..8).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        );
        for (src, want) in [
            ("matrix: {k: []}\n", "has 0 values"),
            (
                "matrix: {k: [\"a/b\"]}\n",
                "cannot be part of a trial's name",
            ),
            ("matrix: {\"a b\": [1]}\n", "invalid matrix key"),
            (big.as_str(), "more than 64 trials"),
            (heavy.as_str(), "netspec expands at most 4194304"),
            (
                "matrix: {family: [v4]}\nx: ${familly}\n",
                "`${familly}` is not a matrix key",
            ),
        ] {
            let e = names(src).unwrap_err();
            assert!(e.contains(want), "{src}: {e}");
        }
    }
}
