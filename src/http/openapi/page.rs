//! The docs page (`GET /docs`): plain HTML rendered from the OpenAPI document, every string
//! escaped, no scripts and nothing loaded from elsewhere.

use std::fmt::Write as _;

use serde_json::Value;

use super::ACCESS_EXTENSION;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text with `code` spans (the only markdown the descriptions use) and paragraphs.
fn prose(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|paragraph| {
            let mut html = String::from("<p>");
            for (i, part) in paragraph.split('`').enumerate() {
                let part = part.replace("**", "");
                if i % 2 == 1 {
                    let _ = write!(html, "<code>{}</code>", escape(&part));
                } else {
                    html.push_str(&escape(&part));
                }
            }
            html.push_str("</p>");
            html
        })
        .collect()
}

/// [`prose`] without paragraphs, for table cells and one-line boxes.
fn inline(text: &str) -> String {
    let html = prose(text);
    html.strip_prefix("<p>")
        .and_then(|h| h.strip_suffix("</p>"))
        .unwrap_or(&html)
        .replace("</p><p>", "<br>")
}

fn anchor(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// A schema in a few words, as HTML: `ErrorBody` (linked), `array of X`, `string | null`.
fn type_label(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = ref_name(reference);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), escape(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            let glue = if key == "allOf" { " &amp; " } else { " | " };
            return parts.iter().map(type_label).collect::<Vec<_>>().join(glue);
        }
    }
    let mut label = match schema.get("type") {
        Some(Value::String(t)) => escape(t),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .map(escape)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    };
    if label.starts_with("array") {
        if let Some(items) = schema.get("items") {
            label = label.replacen("array", &format!("array of {}", type_label(items)), 1);
        }
    }
    if let Some(Value::Object(_)) = schema.get("additionalProperties") {
        label = format!("map of {}", type_label(&schema["additionalProperties"]));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", escape(&v.to_string())))
            .collect();
        label = format!("{label} (one of {})", values.join(", "));
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        label = format!("{label} ({})", escape(format));
    }
    if let Some(media) = schema.get("contentMediaType").and_then(Value::as_str) {
        label = format!("{label} (file, {})", escape(media));
    }
    if label.is_empty() {
        "any".to_owned()
    } else {
        label
    }
}

fn content_list(content: Option<&Value>) -> String {
    let Some(content) = content.and_then(Value::as_object) else {
        return "—".to_owned();
    };
    content
        .iter()
        .map(|(media, body)| match body.get("schema") {
            Some(schema) => format!("<code>{}</code>: {}", escape(media), type_label(schema)),
            None => format!("<code>{}</code>", escape(media)),
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.4}\
code{background:#f3f3f3;padding:0 .2rem;word-break:break-all}table{border-collapse:collapse;width:100%;margin:.5rem 0}\
td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}\
section.op{border:1px solid #ccc;border-radius:4px;padding:.5rem 1rem;margin:1rem 0}\
.method{display:inline-block;min-width:3.5rem;font-weight:bold;color:#fff;background:#36c;padding:0 .4rem;border-radius:3px;text-align:center}\
.POST{background:#284}.access{background:#f6f6e8;padding:.3rem .5rem}nav li{margin:.1rem 0}";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The docs page, from the document as JSON: every operation, then every schema.
pub(super) fn render(doc: &Value) -> String {
    let info = &doc["info"];
    let title = info["title"].as_str().unwrap_or("API");
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} API</title><style>{STYLE}</style></head><body><h1>{} API <small>{}</small></h1>",
        escape(title),
        escape(title),
        escape(info["version"].as_str().unwrap_or_default())
    );
    html.push_str(&prose(info["description"].as_str().unwrap_or_default()));
    let _ = write!(
        html,
        "<p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {}).</p>",
        escape(doc["openapi"].as_str().unwrap_or_default())
    );
    html.push_str(
        "<h2 id=\"errors\">Errors</h2><p>Every error is JSON with the HTTP status:</p>\
         <pre><code>{\"error\": {\"code\": \"not_found\", \"message\": \"…\"}}</code></pre>\
         <p>See <a href=\"#schema-ErrorBody\">ErrorBody</a> for the codes.</p>\
         <h2 id=\"auth\">Authentication</h2><p>Privileged operations need an API key: \
         <code>Authorization: Bearer qlt_…</code>. Each operation names the scopes it accepts; \
         a key with <code>admin</code> passes everywhere. A key that is sent must be valid, even \
         on an open operation.</p>",
    );

    // (tag, path, method, operation): grouped by tag in the document's order, then by path.
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    let mut operations: Vec<(usize, &str, &str, &Value)> = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let tag = op["tags"][0].as_str().unwrap_or_default();
                    let rank = tags.iter().position(|t| *t == tag).unwrap_or(tags.len());
                    operations.push((rank, path, method, op));
                }
            }
        }
    }
    operations.sort_by_key(|(rank, path, _, _)| (*rank, *path));
    let id_of = |path: &str, method: &str| anchor(&format!("op-{method}{path}"));
    let tag_heading = |rank: usize| {
        let (name, description) = match doc["tags"].get(rank) {
            Some(tag) => (
                tag["name"].as_str().unwrap_or("other"),
                tag["description"].as_str().unwrap_or_default(),
            ),
            None => ("other", ""),
        };
        (escape(name), inline(description))
    };

    html.push_str("<h2 id=\"operations\">Operations</h2><nav>");
    let mut current = None;
    for (rank, path, method, op) in &operations {
        if current != Some(*rank) {
            if current.is_some() {
                html.push_str("</ul>");
            }
            current = Some(*rank);
            let (name, description) = tag_heading(*rank);
            let _ = write!(
                html,
                "<p><a href=\"#tag-{name}\"><strong>{name}</strong></a>: {description}</p><ul>"
            );
        }
        let _ = write!(
            html,
            "<li><a href=\"#{}\"><code>{} {}</code></a> {}</li>",
            id_of(path, method),
            method.to_uppercase(),
            escape(path),
            escape(op["summary"].as_str().unwrap_or_default())
        );
    }
    html.push_str("</ul></nav>");

    let mut current = None;
    for (rank, path, method, op) in &operations {
        if current != Some(*rank) {
            current = Some(*rank);
            let (name, description) = tag_heading(*rank);
            let _ = write!(
                html,
                "<h2 id=\"tag-{name}\">{name}</h2><p>{description}</p>"
            );
        }
        let upper = method.to_uppercase();
        let _ = write!(
            html,
            "<section class=\"op\" id=\"{}\"><h3><span class=\"method {upper}\">{upper}</span> \
             <code>{}</code></h3><p><strong>{}</strong></p>",
            id_of(path, method),
            escape(path),
            escape(op["summary"].as_str().unwrap_or_default())
        );
        // The description ends with the access paragraph (from the rule table).
        let description = op["description"].as_str().unwrap_or_default();
        let (text, access) = match description.rsplit_once("**Access:** ") {
            Some((text, access)) => (text, Some(access)),
            None => (description, None),
        };
        html.push_str(&prose(text));
        let scopes = op[ACCESS_EXTENSION]["scopes"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(|s| format!("<code>{}</code>", escape(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "none".to_owned());
        let _ = write!(
            html,
            "<div class=\"access\"><strong>Access</strong> (rule <code>{}</code>; scope: {scopes}): {}</div>",
            escape(op[ACCESS_EXTENSION]["rule"].as_str().unwrap_or("admin-only")),
            inline(access.unwrap_or("API key with the scope `admin`."))
        );

        if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
            html.push_str(
                "<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th>\
                 <th>Type</th><th>Description</th></tr>",
            );
            for p in params {
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(p["name"].as_str().unwrap_or_default()),
                    escape(p["in"].as_str().unwrap_or_default()),
                    if p["required"].as_bool().unwrap_or(false) {
                        "yes"
                    } else {
                        "no"
                    },
                    p.get("schema").map_or_else(|| "any".to_owned(), type_label),
                    inline(p["description"].as_str().unwrap_or_default())
                );
            }
            html.push_str("</table>");
        }

        if let Some(body) = op.get("requestBody") {
            let _ = write!(
                html,
                "<h4>Request body{}</h4>{}<p>{}</p>",
                if body["required"].as_bool().unwrap_or(false) {
                    ""
                } else {
                    " (optional)"
                },
                prose(body["description"].as_str().unwrap_or_default()),
                content_list(body.get("content"))
            );
        }

        html.push_str(
            "<h4>Responses</h4><table><tr><th>Status</th><th>Description</th><th>Content</th></tr>",
        );
        if let Some(responses) = op["responses"].as_object() {
            for (status, response) in responses {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(status),
                    inline(response["description"].as_str().unwrap_or_default()),
                    content_list(response.get("content"))
                );
            }
        }
        html.push_str("</table></section>");
    }

    html.push_str("<h2 id=\"schemas\">Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(
                html,
                "<section id=\"schema-{}\"><h3>{}</h3>{}",
                anchor(name),
                escape(name),
                prose(schema["description"].as_str().unwrap_or_default())
            );
            // `allOf` (a flattened struct): the schemas it includes, then its own fields.
            let mut own = schema;
            if let Some(parts) = schema["allOf"].as_array() {
                for part in parts {
                    match part.get("$ref") {
                        Some(_) => {
                            let _ =
                                write!(html, "<p>Every field of {}, and:</p>", type_label(part));
                        }
                        None => own = part,
                    }
                }
            }
            let required: Vec<&str> = own["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match own["properties"].as_object() {
                Some(properties) => {
                    html.push_str(
                        "<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>",
                    );
                    for (field, property) in properties {
                        let _ = write!(
                            html,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(field),
                            type_label(property),
                            if required.contains(&field.as_str()) {
                                "yes"
                            } else {
                                "no"
                            },
                            inline(property["description"].as_str().unwrap_or_default())
                        );
                    }
                    html.push_str("</table>");
                }
                None => {
                    let _ = write!(html, "<p>{}</p>", type_label(own));
                }
            }
            html.push_str("</section>");
        }
    }
    html.push_str("</body></html>");
    html
}
