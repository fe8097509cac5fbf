//! Chaos Toolkit's JSONPath dialect (jsonpath2), used by `jsonpath` tolerances and `json`
//! expectations.
//!
//! A path is read by translating it to RFC 9535 for `serde_json_path`: a single `=` becomes `==`,
//! `and`/`or`/`not` become `&&`/`||`/`!` with jsonpath2's precedence (`or` binds tighter than
//! `and`), blanks are ignored. Two jsonpath2 meanings that RFC 9535 lacks are kept: a filter
//! `[?(...)]` keeps or drops the node it follows (`$.foo[?(@.baz)]` is `foo` itself when
//! `foo.baz` exists), so [`Jsonpath2`] evaluates a path in stages, filter by filter; and a
//! comparison only holds between values that exist (`@.a != 1` is false without `a`).
//! Not reproduced: comparisons otherwise follow RFC 9535 (`true` is not `1`, `<` also orders
//! strings, each side names at most one node), and jsonpath2 functions such as `length()` are
//! not available as path steps.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

/// Compiles a JSONPath as Chaos Toolkit users write it (jsonpath2 dialect) into its RFC 9535
/// reading. The whole path is checked as [`Jsonpath2`] reads it; the returned query reads a
/// filter `[?(...)]` the RFC way (it selects among the children), which matches jsonpath2 only
/// after `[*]`/`.*` — use [`Jsonpath2::query`] to evaluate with Chaos Toolkit's meaning.
pub fn compile_jsonpath(path: &str) -> Result<JsonPath, String> {
    Jsonpath2::parse(path)?;
    let tokens = lex(path).map_err(|why| invalid(path, &why))?;
    let text = emit("$", tokens.get(1..).unwrap_or_default(), false);
    rfc(path, &text.map_err(|why| invalid(path, &why))?)
}

/// A path in Chaos Toolkit's JSONPath dialect (jsonpath2), evaluated with its meaning: the
/// steps between filters run as RFC 9535 queries, and each filter keeps or drops a node.
#[derive(Debug, Clone)]
pub struct Jsonpath2 {
    stages: Vec<Stage>,
}

#[derive(Debug, Clone)]
enum Stage {
    /// An RFC 9535 query run from each node (`$` is the node).
    Select(JsonPath),
    /// The node and all its descendants (`..` right before a filter).
    Descend,
    /// Keep the node when the filter holds: the query runs on `[node]`, or on
    /// `{"n": [node], "r": root}` when the filter refers to the root.
    Keep { test: JsonPath, uses_root: bool },
}

impl Jsonpath2 {
    /// Parses a jsonpath2 path (`$.items[*].v`, `$..name`, `$.foo[?(@.baz="hello")]`).
    pub fn parse(path: &str) -> Result<Self, String> {
        let tokens = lex(path).map_err(|why| invalid(path, &why))?;
        match tokens.first() {
            None => return Err("the JSONPath is empty".into()),
            Some(Tok::Punct('$')) => {}
            Some(_) => return Err(invalid(path, "it must start with `$` (the document root)")),
        }
        let mut stages = Vec::new();
        let (mut i, mut start) = (1, 1);
        while i < tokens.len() {
            match tokens[i] {
                Tok::Punct('[') => {
                    let close = matching(&tokens, i)
                        .ok_or_else(|| invalid(path, "a `[` is never closed"))?;
                    let inner = &tokens[i + 1..close];
                    if inner.first() == Some(&Tok::Punct('?')) {
                        let mut before = &tokens[start..i];
                        let descend = before.last() == Some(&Tok::Op(".."));
                        if descend {
                            before = &before[..before.len() - 1];
                        }
                        if !before.is_empty() {
                            let text = emit("$", before, false).map_err(|w| invalid(path, &w))?;
                            stages.push(Stage::Select(rfc(path, &text)?));
                        }
                        if descend {
                            stages.push(Stage::Descend);
                        }
                        stages.push(keep_stage(path, &inner[1..])?);
                        start = close + 1;
                    } else if split_top(inner, |t, j| t[j] == Tok::Punct(','))
                        .iter()
                        .any(|part| part.first() == Some(&Tok::Punct('?')))
                    {
                        let why = "a filter cannot share its `[...]` with other selectors";
                        return Err(invalid(path, why));
                    }
                    i = close + 1;
                }
                Tok::Punct('(') => {
                    let why = "path steps cannot call functions such as `length()`";
                    return Err(invalid(path, why));
                }
                _ => i += 1,
            }
        }
        if start < tokens.len() || stages.is_empty() {
            let text = emit("$", tokens.get(start..).unwrap_or_default(), false)
                .map_err(|why| invalid(path, &why))?;
            stages.push(Stage::Select(rfc(path, &text)?));
        }
        Ok(Jsonpath2 { stages })
    }

    /// Every value the path matches in `root`, in document order.
    pub fn query<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut nodes = vec![root];
        for stage in &self.stages {
            nodes = match stage {
                Stage::Select(path) => nodes
                    .into_iter()
                    .flat_map(|n| path.query(n).all())
                    .collect(),
                Stage::Descend => {
                    let mut all = Vec::new();
                    nodes
                        .into_iter()
                        .for_each(|n| self_and_descendants(n, &mut all));
                    all
                }
                Stage::Keep { test, uses_root } => nodes
                    .into_iter()
                    .filter(|node| {
                        let wrapped = Value::Array(vec![(*node).clone()]);
                        let wrapper = match uses_root {
                            true => Value::Object(Map::from_iter([
                                ("n".to_string(), wrapped),
                                ("r".to_string(), root.clone()),
                            ])),
                            false => wrapped,
                        };
                        !test.query(&wrapper).is_empty()
                    })
                    .collect(),
            };
        }
        nodes
    }
}

fn self_and_descendants<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(node);
    match node {
        Value::Array(items) => items.iter().for_each(|v| self_and_descendants(v, out)),
        Value::Object(map) => map.values().for_each(|v| self_and_descendants(v, out)),
        _ => {}
    }
}

fn keep_stage(path: &str, expr: &[Tok]) -> Result<Stage, String> {
    let uses_root = expr.contains(&Tok::Punct('$'));
    let condition = and_expr(expr, uses_root).map_err(|why| invalid(path, &why))?;
    let text = match uses_root {
        true => format!("$.n[?{condition}]"),
        false => format!("$[?{condition}]"),
    };
    Ok(Stage::Keep {
        test: rfc(path, &text)?,
        uses_root,
    })
}

fn invalid(path: &str, why: &str) -> String {
    format!("invalid JSONPath '{path}': {why}")
}

fn rfc(path: &str, text: &str) -> Result<JsonPath, String> {
    JsonPath::parse(text).map_err(|e| {
        let rest: String = text.chars().skip(e.position()).collect();
        let why = format!("cannot read it from '{}' ({})", rest.trim(), e.message());
        invalid(path, &why)
    })
}

/// A token of a jsonpath2 path; blanks outside strings are dropped.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Word(String),
    Op(&'static str),
    Punct(char),
}

const OPS: [&str; 11] = ["..", "==", "!=", "<=", ">=", "&&", "||", "=", "<", ">", "!"];

/// Deeper nesting is refused: translating it would recurse that deep.
const MAX_NESTING: i32 = 32;

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("a quoted string is never closed".into()),
                    Some('\\') => i += 2,
                    Some(&q) => {
                        i += 1;
                        if q == c {
                            break;
                        }
                    }
                }
            }
            tokens.push(Tok::Str(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' || !c.is_ascii() {
            while chars
                .get(i)
                .is_some_and(|&c| c.is_alphanumeric() || c == '_' || !c.is_ascii())
            {
                i += 1;
            }
            tokens.push(Tok::Word(chars[start..i].iter().collect()));
        } else if let Some(op) = OPS.iter().find(|op| {
            op.chars()
                .enumerate()
                .all(|(k, oc)| chars.get(i + k) == Some(&oc))
        }) {
            i += op.len();
            tokens.push(Tok::Op(op));
        } else {
            i += 1;
            tokens.push(Tok::Punct(c));
        }
    }
    let mut depth = 0i32;
    for token in &tokens {
        match token {
            Tok::Punct('[' | '(') => depth += 1,
            Tok::Punct(']' | ')') => depth -= 1,
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(format!("brackets nest more than {MAX_NESTING} deep"));
        }
    }
    Ok(tokens)
}

/// The index of the bracket closing the one at `open`.
fn matching(tokens: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token {
            Tok::Punct('[' | '(') => depth += 1,
            Tok::Punct(']' | ')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at the top-level tokens where `at` holds.
fn split_top(tokens: &[Tok], at: impl Fn(&[Tok], usize) -> bool) -> Vec<&[Tok]> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for i in 0..tokens.len() {
        match tokens[i] {
            Tok::Punct('[' | '(') => depth += 1,
            Tok::Punct(']' | ')') => depth -= 1,
            _ if depth == 0 && at(tokens, i) => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// Whether `tokens[i]` is the boolean operator `word` (or its symbol), not a member name.
fn is_operator(tokens: &[Tok], i: usize, word: &str, symbol: &str) -> bool {
    let after_dot = i > 0 && matches!(tokens[i - 1], Tok::Punct('.') | Tok::Op(".."));
    match &tokens[i] {
        Tok::Word(w) => w == word && !after_dot,
        Tok::Op(op) => *op == symbol,
        _ => false,
    }
}

/// jsonpath2: `a and b or c` is `a and (b or c)`; each `and` operand is parenthesised.
fn and_expr(tokens: &[Tok], root: bool) -> Result<String, String> {
    let parts = split_top(tokens, |t, i| is_operator(t, i, "and", "&&"));
    if parts.len() == 1 {
        return or_expr(tokens, root);
    }
    let parts: Result<Vec<_>, _> = parts.into_iter().map(|p| or_expr(p, root)).collect();
    Ok(parts?
        .iter()
        .map(|p| format!("({p})"))
        .collect::<Vec<_>>()
        .join("&&"))
}

fn or_expr(tokens: &[Tok], root: bool) -> Result<String, String> {
    let parts = split_top(tokens, |t, i| is_operator(t, i, "or", "||"));
    let parts: Result<Vec<_>, _> = parts.into_iter().map(|p| not_expr(p, root)).collect();
    Ok(parts?.join("||"))
}

/// `not x` negates the whole comparison `x`, which RFC 9535 writes `!(x)`.
fn not_expr(tokens: &[Tok], root: bool) -> Result<String, String> {
    let negations = (0..tokens.len())
        .take_while(|&i| is_operator(tokens, i, "not", "!"))
        .count();
    let rest = &tokens[negations..];
    let inner = match rest.first() {
        Some(Tok::Punct('(')) if matching(rest, 0) == Some(rest.len() - 1) => {
            format!("({})", and_expr(&rest[1..rest.len() - 1], root)?)
        }
        _ => comparison(rest, root)?,
    };
    Ok(format!(
        "{}{inner}{}",
        "!(".repeat(negations),
        ")".repeat(negations)
    ))
}

/// A comparison or test. jsonpath2 compares only values that exist, while RFC 9535 lets a missing
/// value be unequal to anything, so every path compared is also required to exist.
fn comparison(tokens: &[Tok], root: bool) -> Result<String, String> {
    let text = emit("", tokens, root)?;
    let parts = split_top(tokens, |t, i| {
        matches!(t[i], Tok::Op("=" | "==" | "!=" | "<" | "<=" | ">" | ">="))
    });
    if parts.len() != 2 {
        return Ok(text);
    }
    let mut guards = Vec::new();
    for part in parts {
        if matches!(part.first(), Some(Tok::Punct('@' | '$'))) {
            let side = emit("", part, false)?;
            let several = [
                Tok::Op(".."),
                Tok::Punct('*'),
                Tok::Punct(':'),
                Tok::Punct(','),
            ];
            if part.iter().any(|t| several.contains(t)) {
                return Err(format!(
                    "`{side}` may name several values, and a comparison needs exactly one \
                     (such as `@.a` or `@.a[0]`)"
                ));
            }
            guards.push(emit("", part, root)?);
        }
    }
    match guards.is_empty() {
        true => Ok(text),
        false => Ok(format!("({text}&&{})", guards.join("&&"))),
    }
}

/// Writes tokens as RFC 9535 text: `=` becomes `==`, nested filters are translated, and with
/// `root` the root `$` is read from the filter wrapper's `r`.
fn emit(prefix: &str, tokens: &[Tok], root: bool) -> Result<String, String> {
    let mut out = prefix.to_string();
    let mut i = 0;
    while i < tokens.len() {
        let wordlike = matches!(tokens[i], Tok::Word(_) | Tok::Str(_));
        if wordlike && out.ends_with(|c: char| c.is_alphanumeric() || "$\"'".contains(c)) {
            out.push(' ');
        }
        match &tokens[i] {
            Tok::Punct('[') if tokens.get(i + 1) == Some(&Tok::Punct('?')) => {
                let close = matching(tokens, i).ok_or("a `[` is never closed")?;
                // `[*][?(e)]` in jsonpath2 is `[?e]` in RFC 9535.
                if out.ends_with("..*") {
                    out.pop();
                } else if let Some(kept) = out.strip_suffix("[*]").or(out.strip_suffix(".*")) {
                    out.truncate(kept.len());
                }
                out.push_str(&format!("[?{}]", and_expr(&tokens[i + 2..close], root)?));
                i = close + 1;
                continue;
            }
            Tok::Op("=") => out.push_str("=="),
            Tok::Punct('$') if root => out.push_str("$['r']"),
            Tok::Str(text) | Tok::Word(text) => out.push_str(text),
            Tok::Op(op) => out.push_str(op),
            Tok::Punct(c) => out.push(*c),
        }
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(path: &str, doc: Value) -> Vec<Value> {
        let compiled = Jsonpath2::parse(path).unwrap_or_else(|e| panic!("{e}"));
        compiled.query(&doc).into_iter().cloned().collect()
    }

    #[test]
    fn jsonpath2_forms_compile() {
        for path in [
            "$",
            "$.items[*].v",
            "$..name",
            "$.foo[?(@.baz=\"hello\")]",
            "$.foo[?(@.baz = \"hello\")].baz",
            "$[*][?(@.a = 1 and @.b != 2)]",
            "$[*][?(@.a <= 1 or @.a >= 5)]",
            "$[*][?(not @.a)]",
            "$[*][?(not (@.a = 1 or @.b = 2))]",
            "$[*][?(@.a < 1 and (@.b > 2 or @.c))]",
            "$[\"key with space\"]",
            "$['single']",
            "$.a[0]",
            "$.a[-1:]",
            "$.a[0,1]",
            "$.a[:2]",
            "$.a[::2]",
            "$.*",
            "$..*",
            "$..book[2]",
            " $.a [ 0 ] ",
            "$..[?(@.id)]",
            "$.items[*][?(@.v = $.wanted)]",
            "$[*][?(@.tags[*][?(@ = \"x\")])]",
        ] {
            assert!(
                compile_jsonpath(path).is_ok(),
                "{path}: {:?}",
                compile_jsonpath(path).err()
            );
            assert!(Jsonpath2::parse(path).is_ok(), "{path}");
        }
    }

    #[test]
    fn bad_jsonpaths_say_what_is_wrong_and_quote_the_path() {
        let deep = format!("$[?{}@.a{}]", "(".repeat(40), ")".repeat(40));
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("foo.bar", "must start with `$`"),
            ("@.a", "must start with `$`"),
            ("$.a[", "never closed"),
            ("$[\"open", "never closed"),
            ("$.items.length()", "functions"),
            ("$[0, ?(@.a)]", "filter"),
            ("$[*][?(@.a[*] = 1)]", "may name several values"),
            ("$[*][?(@..a = 1)]", "may name several values"),
            ("$.a b", "cannot read it from"),
            (deep.as_str(), "nest more than"),
        ];
        for (path, expected) in cases {
            let message = compile_jsonpath(path).expect_err(path);
            assert!(message.contains(expected), "{path}: {message}");
            if !path.trim().is_empty() {
                assert!(message.contains(&format!("'{path}'")), "{path}: {message}");
            }
        }
    }

    #[test]
    fn jsonpath2_selects_like_jsonpath2() {
        let store = json!({"store": {"book": [
            {"title": "A", "price": 8.95, "isbn": "1"},
            {"title": "B", "price": 12.99},
            {"title": "C", "price": 22.99, "isbn": "3"}
        ], "bicycle": {"price": 19.95}}});
        assert_eq!(
            values("$.store.book[*].title", store.clone()),
            [json!("A"), json!("B"), json!("C")]
        );
        assert_eq!(
            values("$..book[*][?(@.isbn)].title", store.clone()),
            [json!("A"), json!("C")]
        );
        assert_eq!(
            values("$..book[*][?(@.price<10)].title", store.clone()),
            [json!("A")]
        );
        assert_eq!(
            values("$..price", store.clone()),
            [json!(8.95), json!(12.99), json!(22.99), json!(19.95)]
        );
        assert_eq!(values("$..book[-1:].title", store.clone()), [json!("C")]);
        // jsonpath2 filters test the node itself: on the list, `@.isbn` does not exist.
        assert!(values("$.store.book[?(@.isbn)]", store.clone()).is_empty());
        assert_eq!(
            values("$.store.bicycle[?(@.price > 10)].price", store),
            [json!(19.95)]
        );
    }

    #[test]
    fn jsonpath2_boolean_operators_and_precedence() {
        let rows = json!([
            {"id": 1, "a": 1, "b": 0, "c": 3},
            {"id": 2, "a": 0, "b": 2, "c": 3},
            {"id": 3, "a": 1, "b": 2},
            {"id": 4, "or": 1}
        ]);
        // `or` binds tighter than `and`: a=1 and (b=2 or c=3).
        let ids = |path: &str| values(&format!("{path}.id"), rows.clone());
        assert_eq!(
            ids("$[*][?(@.a = 1 and @.b = 2 or @.c = 3)]"),
            [json!(1), json!(3)]
        );
        assert_eq!(ids("$[*][?(not @.a = 1)]"), [json!(2), json!(4)]);
        assert_eq!(ids("$[*][?(@.a != 1)]"), [json!(2)]);
        assert_eq!(ids("$[*][?(@.b >= 2)]"), [json!(2), json!(3)]);
        assert_eq!(ids("$[*][?(@.or)]"), [json!(4)]);
        assert_eq!(ids("$[*][?(not not @.c)]"), [json!(1), json!(2)]);
    }

    #[test]
    fn jsonpath2_descent_filters_and_root_references() {
        let doc = json!({"id": 1, "x": {"id": 2}, "wanted": 2, "items": [{"v": 1}, {"v": 2}]});
        assert_eq!(values("$..[?(@.id)].id", doc.clone()), [json!(1), json!(2)]);
        assert_eq!(
            values("$.items[*][?(@.v = $.wanted)]", doc.clone()),
            [json!({"v": 2})]
        );
        let tagged = json!([{"n": 1, "tags": ["x"]}, {"n": 2, "tags": ["y"]}]);
        assert_eq!(
            values("$[*][?(@.tags[*][?(@ = \"x\")])].n", tagged),
            [json!(1)]
        );
    }
}
