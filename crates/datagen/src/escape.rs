//! Escaping for series keys and line protocol (tsm-format.md §2.1, line-protocol rules).

/// Appends a measurement escaped for a series key or line: `,` and space.
pub fn escape_measurement(name: &[u8], out: &mut Vec<u8>) {
    for &b in name {
        if matches!(b, b',' | b' ') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// Appends a tag key, tag value or field key escaped: `,`, `=` and space.
pub fn escape_tag(text: &[u8], out: &mut Vec<u8>) {
    for &b in text {
        if matches!(b, b',' | b'=' | b' ') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// Appends a string field value in double quotes with `\` and `"` escaped.
pub fn quote_string(value: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in value {
        if matches!(b, b'"' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_each_part_by_its_rules() {
        let mut out = Vec::new();
        escape_measurement(b"c p,u=x\\", &mut out);
        assert_eq!(out, b"c\\ p\\,u=x\\");
        out.clear();
        escape_tag(b"a b,c=d\\", &mut out);
        assert_eq!(out, b"a\\ b\\,c\\=d\\");
        out.clear();
        quote_string(b"say \"hi\" \\o/", &mut out);
        assert_eq!(out, b"\"say \\\"hi\\\" \\\\o/\"");
    }
}
