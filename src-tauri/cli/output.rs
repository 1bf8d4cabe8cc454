//! openstackclient's output formats: `-f table|json|value|yaml|shell` and `-c COLUMN`.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Value,
    Yaml,
    Shell,
}

#[derive(Debug, Clone, Args, Default)]
pub struct OutputArgs {
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show only this column (repeat for more)
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
}

fn wanted(columns: &[String], name: &str) -> bool {
    columns.is_empty() || columns.iter().any(|c| c.eq_ignore_ascii_case(name))
}

/// Text of a value as openstackclient prints it in tables and `-f value`.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}='{}'", text(v))).collect::<Vec<_>>().join(", "),
        // Python's spelling, as openstackclient prints them.
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// One object as Field/Value rows.
pub fn show_one(out: &mut dyn Write, fields: &[(String, Value)], o: &OutputArgs) -> std::io::Result<()> {
    let rows: Vec<&(String, Value)> = fields.iter().filter(|(k, _)| wanted(&o.columns, k)).collect();
    match o.format {
        Format::Json => {
            let m: Map<String, Value> = rows.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default())
        }
        Format::Yaml => {
            let m: Map<String, Value> = rows.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            write!(out, "{}", serde_yaml_ng::to_string(&Value::Object(m)).unwrap_or_default())
        }
        Format::Value => {
            for (_, v) in rows {
                writeln!(out, "{}", text(v))?;
            }
            Ok(())
        }
        Format::Shell => {
            for (k, v) in rows {
                writeln!(out, "{}=\"{}\"", shell_name(k), text(v).replace('\\', "\\\\").replace('"', "\\\""))?;
            }
            Ok(())
        }
        Format::Table => {
            let body: Vec<Vec<String>> = rows.iter().map(|(k, v)| vec![k.clone(), text(v)]).collect();
            write!(out, "{}", table(&["Field".into(), "Value".into()], &body))
        }
    }
}

/// Rows under headers.
pub fn show_list(out: &mut dyn Write, headers: &[&str], rows: &[Vec<Value>], o: &OutputArgs) -> std::io::Result<()> {
    let keep: Vec<usize> = (0..headers.len()).filter(|&i| wanted(&o.columns, headers[i])).collect();
    let hs: Vec<String> = keep.iter().map(|&i| headers[i].to_owned()).collect();
    match o.format {
        Format::Json | Format::Yaml => {
            let list: Vec<Value> = rows
                .iter()
                .map(|r| Value::Object(keep.iter().map(|&i| (headers[i].to_owned(), r[i].clone())).collect()))
                .collect();
            if o.format == Format::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&Value::Array(list)).unwrap_or_default())
            } else {
                write!(out, "{}", serde_yaml_ng::to_string(&list).unwrap_or_default())
            }
        }
        Format::Value | Format::Shell => {
            for r in rows {
                let line: Vec<String> = keep.iter().map(|&i| text(&r[i])).collect();
                writeln!(out, "{}", line.join(" "))?;
            }
            Ok(())
        }
        Format::Table => {
            let body: Vec<Vec<String>> = rows.iter().map(|r| keep.iter().map(|&i| text(&r[i])).collect()).collect();
            write!(out, "{}", table(&hs, &body))
        }
    }
}

fn shell_name(k: &str) -> String {
    k.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// A prettytable-style ASCII table.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = || format!("+{}+\n", w.iter().map(|n| "-".repeat(n + 2)).collect::<Vec<_>>().join("+"));
    let row = |cells: &[String]| {
        let parts: Vec<String> =
            cells.iter().enumerate().map(|(i, c)| format!(" {c}{} ", " ".repeat(w[i] - c.chars().count()))).collect();
        format!("|{}|\n", parts.join("|"))
    };
    let mut s = line();
    s += &row(headers);
    s += &line();
    for r in rows {
        s += &row(r);
    }
    if !rows.is_empty() {
        s += &line();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> Vec<(String, Value)> {
        vec![("id".into(), json!("abc")), ("name".into(), json!("cirros")), ("tags".into(), json!(["a", "b"]))]
    }

    fn render(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn value_with_column_prints_just_the_value() {
        let o = OutputArgs { format: Format::Value, columns: vec!["id".into()] };
        assert_eq!(render(|w| show_one(w, &fields(), &o).unwrap()), "abc\n");
    }

    #[test]
    fn json_keeps_types() {
        let o = OutputArgs { format: Format::Json, columns: vec![] };
        let v: Value = serde_json::from_str(&render(|w| show_one(w, &fields(), &o).unwrap())).unwrap();
        assert_eq!(v, json!({"id": "abc", "name": "cirros", "tags": ["a", "b"]}));
    }

    #[test]
    fn table_lines_up() {
        let o = OutputArgs::default();
        let t = render(|w| show_list(w, &["ID", "Name"], &[vec![json!("1"), json!("cirros")]], &o).unwrap());
        assert_eq!(t, "+----+--------+\n| ID | Name   |\n+----+--------+\n| 1  | cirros |\n+----+--------+\n");
    }

    #[test]
    fn shell_format_quotes() {
        let o = OutputArgs { format: Format::Shell, columns: vec![] };
        let s = render(|w| show_one(w, &[("os.x".into(), json!("a\"b"))], &o).unwrap());
        assert_eq!(s, "os_x=\"a\\\"b\"\n");
    }
}
