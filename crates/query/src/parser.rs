//! Recursive-descent parser for the supported InfluxQL subset. Errors name the byte offset and
//! what was expected.

use crate::ast::{
    CmpOp, Cond, FieldExpr, Fill, GroupTags, KeySelector, Operand, Page, SelectStatement, Statement,
};
use crate::error::QueryError;
use crate::lexer::{Spanned, Token, tokenize};
use crate::timefmt::parse_rfc3339;

/// Parses one or more statements separated by `;`. `now` (ns) is the value of `now()`.
pub fn parse_statements(text: &str, now: i64) -> Result<Vec<Statement>, QueryError> {
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, i: 0, now };
    let mut out = Vec::new();
    loop {
        while p.eat_op(";") {}
        if p.at_eof() {
            break;
        }
        out.push(p.statement()?);
        if !p.at_eof() && !p.eat_op(";") {
            return Err(p.expected("end of statement or ';'"));
        }
    }
    if out.is_empty() {
        return Err(QueryError::at(0, "empty query"));
    }
    Ok(out)
}

/// Words that are never identifiers unless double-quoted.
const RESERVED: [&str; 16] = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "OFFSET", "SLIMIT", "SOFFSET",
    "AND", "OR", "AS", "SHOW", "DROP", "DELETE",
];

struct Parser {
    tokens: Vec<Spanned>,
    i: usize,
    now: i64,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.i.min(self.tokens.len() - 1)].token
    }

    fn pos(&self) -> usize {
        self.tokens[self.i.min(self.tokens.len() - 1)].pos
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), Token::Eof)
    }

    fn describe(t: &Token) -> String {
        match t {
            Token::Ident { name, .. } => format!("{name:?}"),
            Token::Str(s) => format!("string '{s}'"),
            Token::Int(i) => i.to_string(),
            Token::Float(f) => f.to_string(),
            Token::Duration(d) => format!("duration {d}ns"),
            Token::Regex(r) => format!("/{r}/"),
            Token::Op(o) => format!("'{o}'"),
            Token::Eof => "end of input".into(),
        }
    }

    fn expected(&self, what: &str) -> QueryError {
        QueryError::at(
            self.pos(),
            format!("found {}, expected {what}", Self::describe(self.peek())),
        )
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Token::Ident { name, quoted: false } if name.eq_ignore_ascii_case(kw))
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.is_keyword(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    fn keyword(&mut self, kw: &str) -> Result<(), QueryError> {
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(self.expected(kw))
        }
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Token::Op(o) if *o == op) {
            self.next();
            true
        } else {
            false
        }
    }

    fn op(&mut self, op: &str) -> Result<(), QueryError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.expected(&format!("'{op}'")))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, QueryError> {
        match self.peek().clone() {
            Token::Ident { name, quoted }
                if quoted || !RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) =>
            {
                self.next();
                Ok(name)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn usize_lit(&mut self, what: &str) -> Result<usize, QueryError> {
        match self.peek().clone() {
            Token::Int(n) if n >= 0 => {
                self.next();
                Ok(n as usize)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn statement(&mut self) -> Result<Statement, QueryError> {
        if self.eat_keyword("SELECT") {
            return Ok(Statement::Select(Box::new(self.select()?)));
        }
        if self.eat_keyword("SHOW") {
            return self.show();
        }
        if self.eat_keyword("CREATE") {
            if self.eat_keyword("DATABASE") {
                return Ok(Statement::CreateDatabase(self.ident("database name")?));
            }
            self.keyword("RETENTION")?;
            self.keyword("POLICY")?;
            let name = self.ident("retention policy name")?;
            self.keyword("ON")?;
            let database = self.ident("database name")?;
            self.keyword("DURATION")?;
            let duration = match self.next() {
                Token::Duration(d) if d > 0 => Some(d),
                Token::Ident {
                    name,
                    quoted: false,
                } if name.eq_ignore_ascii_case("INF") => None,
                _ => {
                    return Err(QueryError::at(
                        self.tokens[self.i - 1].pos,
                        "expected a duration or INF",
                    ));
                }
            };
            if self.eat_keyword("REPLICATION") {
                self.usize_lit("replication factor")?;
            }
            if self.eat_keyword("SHARD") {
                self.keyword("DURATION")?;
                self.next();
            }
            self.eat_keyword("DEFAULT");
            return Ok(Statement::CreateRetentionPolicy {
                name,
                database,
                duration,
            });
        }
        if self.eat_keyword("DROP") {
            if self.eat_keyword("DATABASE") {
                return Ok(Statement::DropDatabase(self.ident("database name")?));
            }
            if self.eat_keyword("MEASUREMENT") {
                return Ok(Statement::DropMeasurement(self.ident("measurement name")?));
            }
            if self.eat_keyword("SERIES") {
                let (from, condition) = self.measurement_and_condition()?;
                return Ok(Statement::DropSeries { from, condition });
            }
            return Err(self.expected("DATABASE, MEASUREMENT or SERIES"));
        }
        if self.eat_keyword("DELETE") {
            let (from, condition) = self.measurement_and_condition()?;
            return Ok(Statement::Delete { from, condition });
        }
        Err(self.expected("SELECT, SHOW, CREATE, DROP or DELETE"))
    }

    fn measurement_and_condition(&mut self) -> Result<(Option<String>, Option<Cond>), QueryError> {
        let from = if self.eat_keyword("FROM") {
            Some(self.ident("measurement name")?)
        } else {
            None
        };
        let condition = if self.eat_keyword("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        if from.is_none() && condition.is_none() {
            return Err(self.expected("FROM or WHERE"));
        }
        Ok((from, condition))
    }

    fn show(&mut self) -> Result<Statement, QueryError> {
        if self.eat_keyword("DATABASES") {
            return Ok(Statement::ShowDatabases);
        }
        if self.eat_keyword("MEASUREMENTS") {
            let with = if self.eat_keyword("WITH") {
                self.keyword("MEASUREMENT")?;
                if self.eat_op("=") {
                    Some(KeySelector::In(vec![self.ident("measurement name")?]))
                } else if self.eat_op("=~") {
                    Some(KeySelector::Match(self.regex("a /regex/ of measurements")?))
                } else {
                    return Err(self.expected("'=' or '=~'"));
                }
            } else {
                None
            };
            let page = self.page()?;
            return Ok(Statement::ShowMeasurements { with, page });
        }
        if self.eat_keyword("SERIES") {
            let from = if self.eat_keyword("FROM") {
                Some(self.ident("measurement name")?)
            } else {
                None
            };
            let condition = if self.eat_keyword("WHERE") {
                Some(self.condition()?)
            } else {
                None
            };
            let page = self.page()?;
            return Ok(Statement::ShowSeries {
                from,
                condition,
                page,
            });
        }
        if self.eat_keyword("FIELD") {
            self.keyword("KEYS")?;
            let from = if self.eat_keyword("FROM") {
                Some(self.ident("measurement name")?)
            } else {
                None
            };
            let page = self.page()?;
            return Ok(Statement::ShowFieldKeys { from, page });
        }
        if self.eat_keyword("TAG") {
            if self.eat_keyword("KEYS") {
                let from = if self.eat_keyword("FROM") {
                    Some(self.ident("measurement name")?)
                } else {
                    None
                };
                let page = self.page()?;
                return Ok(Statement::ShowTagKeys { from, page });
            }
            self.keyword("VALUES")?;
            let from = if self.eat_keyword("FROM") {
                Some(self.ident("measurement name")?)
            } else {
                None
            };
            self.keyword("WITH")?;
            self.keyword("KEY")?;
            let keys = if self.eat_op("=") {
                KeySelector::In(vec![self.ident("tag key")?])
            } else if self.eat_op("!=") || self.eat_op("<>") {
                KeySelector::NotEqual(self.ident("tag key")?)
            } else if self.eat_op("=~") {
                KeySelector::Match(self.regex("a /regex/ of tag keys")?)
            } else if self.eat_op("!~") {
                KeySelector::NotMatch(self.regex("a /regex/ of tag keys")?)
            } else if self.eat_keyword("IN") {
                self.op("(")?;
                let mut keys = vec![self.ident("tag key")?];
                while self.eat_op(",") {
                    keys.push(self.ident("tag key")?);
                }
                self.op(")")?;
                KeySelector::In(keys)
            } else {
                return Err(self.expected("'=', '!=', '=~', '!~' or IN"));
            };
            let condition = if self.eat_keyword("WHERE") {
                Some(self.condition()?)
            } else {
                None
            };
            let page = self.page()?;
            return Ok(Statement::ShowTagValues {
                from,
                keys,
                condition,
                page,
            });
        }
        Err(self.expected("DATABASES, MEASUREMENTS, SERIES, FIELD KEYS, TAG KEYS or TAG VALUES"))
    }

    /// `[LIMIT n] [OFFSET n]` (either order) of a SHOW statement.
    fn page(&mut self) -> Result<Page, QueryError> {
        let mut page = Page::default();
        loop {
            if self.eat_keyword("LIMIT") {
                page.limit = Some(self.usize_lit("a row count")?).filter(|&n| n > 0);
            } else if self.eat_keyword("OFFSET") {
                page.offset = self.usize_lit("a row count")?;
            } else {
                return Ok(page);
            }
        }
    }

    /// A `/regex/` literal.
    fn regex(&mut self, what: &str) -> Result<String, QueryError> {
        match self.peek() {
            Token::Regex(r) => {
                let r = r.clone();
                self.next();
                Ok(r)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn select(&mut self) -> Result<SelectStatement, QueryError> {
        let mut fields = vec![self.field_expr()?];
        while self.eat_op(",") {
            fields.push(self.field_expr()?);
        }
        self.keyword("FROM")?;
        let from = self.ident("measurement name")?;
        let condition = if self.eat_keyword("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut s = SelectStatement {
            fields,
            from,
            condition,
            group_by_time: None,
            group_by_tags: GroupTags::None,
            fill: Fill::Null,
            descending: false,
            limit: None,
            offset: None,
            slimit: None,
            soffset: None,
        };
        if self.eat_keyword("GROUP") {
            self.keyword("BY")?;
            loop {
                if self.is_keyword("time")
                    && matches!(
                        self.tokens.get(self.i + 1).map(|t| &t.token),
                        Some(Token::Op("("))
                    )
                {
                    self.next();
                    self.op("(")?;
                    let every = self.duration("a duration such as 10s")?;
                    let offset = if self.eat_op(",") {
                        let negative = self.eat_op("-");
                        let d = self.duration("an offset duration")?;
                        if negative { -d } else { d }
                    } else {
                        0
                    };
                    self.op(")")?;
                    s.group_by_time = Some((every, offset));
                } else if self.eat_op("*") {
                    s.group_by_tags = GroupTags::All;
                } else {
                    let key = self.ident("time(...), * or a tag key")?;
                    match &mut s.group_by_tags {
                        GroupTags::Keys(keys) => keys.push(key),
                        other => *other = GroupTags::Keys(vec![key]),
                    }
                }
                if !self.eat_op(",") {
                    break;
                }
            }
        }
        if self.eat_keyword("fill") {
            self.op("(")?;
            s.fill = match self.next() {
                Token::Ident { name, .. } if name.eq_ignore_ascii_case("null") => Fill::Null,
                Token::Ident { name, .. } if name.eq_ignore_ascii_case("none") => Fill::None,
                Token::Ident { name, .. } if name.eq_ignore_ascii_case("previous") => {
                    Fill::Previous
                }
                Token::Ident { name, .. } if name.eq_ignore_ascii_case("linear") => Fill::Linear,
                Token::Int(n) => Fill::Integer(n),
                Token::Float(f) => Fill::Value(f),
                Token::Op("-") => match self.next() {
                    Token::Int(n) => Fill::Integer(n.wrapping_neg()),
                    Token::Float(f) => Fill::Value(-f),
                    _ => {
                        return Err(QueryError::at(
                            self.pos(),
                            "expected a number after '-' in fill()",
                        ));
                    }
                },
                _ => {
                    return Err(QueryError::at(
                        self.tokens[self.i - 1].pos,
                        "expected null, none, previous, linear or a number in fill()",
                    ));
                }
            };
            self.op(")")?;
        }
        if self.eat_keyword("ORDER") {
            self.keyword("BY")?;
            self.keyword("time")?;
            if self.eat_keyword("DESC") {
                s.descending = true;
            } else {
                self.eat_keyword("ASC");
            }
        }
        loop {
            if self.eat_keyword("LIMIT") {
                s.limit = Some(self.usize_lit("a row count")?);
            } else if self.eat_keyword("OFFSET") {
                s.offset = Some(self.usize_lit("a row count")?);
            } else if self.eat_keyword("SLIMIT") {
                s.slimit = Some(self.usize_lit("a series count")?);
            } else if self.eat_keyword("SOFFSET") {
                s.soffset = Some(self.usize_lit("a series count")?);
            } else if self.eat_keyword("tz") {
                return Err(QueryError::at(
                    self.tokens[self.i - 1].pos,
                    "tz() is not supported",
                ));
            } else {
                break;
            }
        }
        Ok(s)
    }

    fn duration(&mut self, what: &str) -> Result<i64, QueryError> {
        match self.peek().clone() {
            Token::Duration(d) if d > 0 => {
                self.next();
                Ok(d)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn field_expr(&mut self) -> Result<FieldExpr, QueryError> {
        if self.eat_op("*") {
            return Ok(FieldExpr::Wildcard);
        }
        let name = self.ident("a field, a function call or *")?;
        let mut expr = if self.eat_op("(") {
            let field = if self.eat_op("*") {
                "*".to_string()
            } else {
                self.ident("a field name")?
            };
            let arg = if self.eat_op(",") {
                match self.next() {
                    Token::Int(n) => Some(n as f64),
                    Token::Float(f) => Some(f),
                    _ => {
                        return Err(QueryError::at(
                            self.tokens[self.i - 1].pos,
                            "expected a number",
                        ));
                    }
                }
            } else {
                None
            };
            self.op(")")?;
            FieldExpr::Call {
                func: name.to_ascii_lowercase(),
                field,
                arg,
                alias: None,
            }
        } else {
            FieldExpr::Field { name, alias: None }
        };
        if self.eat_keyword("AS") {
            let alias = Some(self.ident("an alias")?);
            match &mut expr {
                FieldExpr::Field { alias: a, .. } | FieldExpr::Call { alias: a, .. } => *a = alias,
                FieldExpr::Wildcard => {}
            }
        }
        Ok(expr)
    }

    fn condition(&mut self) -> Result<Cond, QueryError> {
        let mut left = self.conjunction()?;
        while self.eat_keyword("OR") {
            let right = self.conjunction()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Cond, QueryError> {
        let mut left = self.comparison()?;
        while self.eat_keyword("AND") {
            let right = self.comparison()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Cond, QueryError> {
        if self.eat_op("(") {
            let c = self.condition()?;
            self.op(")")?;
            return Ok(c);
        }
        let pos = self.pos();
        let name = self.ident("a tag, field or time")?;
        let op = match self.next() {
            Token::Op("=") => CmpOp::Eq,
            Token::Op("!=" | "<>") => CmpOp::Neq,
            Token::Op("<") => CmpOp::Lt,
            Token::Op("<=") => CmpOp::Lte,
            Token::Op(">") => CmpOp::Gt,
            Token::Op(">=") => CmpOp::Gte,
            Token::Op("=~") => CmpOp::Match,
            Token::Op("!~") => CmpOp::NotMatch,
            t => {
                return Err(QueryError::at(
                    self.tokens[self.i - 1].pos,
                    format!(
                        "found {}, expected a comparison operator",
                        Self::describe(&t)
                    ),
                ));
            }
        };
        let value = if name.eq_ignore_ascii_case("time") {
            Operand::Time(self.time_expr()?)
        } else {
            self.operand()?
        };
        Ok(Cond::Cmp {
            name,
            op,
            value,
            pos,
        })
    }

    fn operand(&mut self) -> Result<Operand, QueryError> {
        let negative = self.eat_op("-");
        let v = match self.next() {
            Token::Str(s) => Operand::Str(s),
            Token::Int(n) => Operand::Int(if negative { -n } else { n }),
            Token::Float(f) => Operand::Num(if negative { -f } else { f }),
            Token::Regex(r) => Operand::Regex(r),
            Token::Ident {
                name,
                quoted: false,
            } if name.eq_ignore_ascii_case("true") => Operand::Bool(true),
            Token::Ident {
                name,
                quoted: false,
            } if name.eq_ignore_ascii_case("false") => Operand::Bool(false),
            t => {
                return Err(QueryError::at(
                    self.tokens[self.i - 1].pos,
                    format!(
                        "found {}, expected a string, number, boolean or regex",
                        Self::describe(&t)
                    ),
                ));
            }
        };
        Ok(v)
    }

    /// `now()`, an RFC 3339 string or an integer (ns), plus or minus durations.
    fn time_expr(&mut self) -> Result<i64, QueryError> {
        let pos = self.pos();
        let mut t = match self.next() {
            Token::Ident {
                name,
                quoted: false,
            } if name.eq_ignore_ascii_case("now") => {
                self.op("(")?;
                self.op(")")?;
                self.now
            }
            Token::Str(s) => parse_rfc3339(&s).ok_or_else(|| {
                QueryError::at(
                    pos,
                    format!("invalid time '{s}': expected RFC 3339 such as '2016-01-01T00:00:00Z'"),
                )
            })?,
            Token::Int(n) | Token::Duration(n) => n,
            Token::Op("-") => match self.next() {
                Token::Int(n) => -n,
                _ => return Err(QueryError::at(pos, "expected a time")),
            },
            t => {
                return Err(QueryError::at(
                    pos,
                    format!(
                        "found {}, expected now(), a time string or an integer",
                        Self::describe(&t)
                    ),
                ));
            }
        };
        loop {
            let sign = if self.eat_op("+") {
                1
            } else if self.eat_op("-") {
                -1
            } else {
                break;
            };
            let d = self.duration("a duration")?;
            t = t
                .checked_add(sign * d)
                .ok_or_else(|| QueryError::at(pos, "time overflows"))?;
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Statement {
        parse_statements(s, 1_000_000_000_000).unwrap().remove(0)
    }

    #[test]
    fn tsbs_shapes_parse() {
        let Statement::Select(s) = one(
            "SELECT max(usage_user) AS m, mean(usage_system) FROM cpu WHERE (hostname = 'host_1' OR hostname = 'host_2') AND time >= '2016-01-01T00:00:00Z' AND time < now() - 1h GROUP BY time(1m, 10s), hostname fill(none) ORDER BY time DESC LIMIT 5 SLIMIT 2",
        ) else {
            panic!()
        };
        assert_eq!(s.fields.len(), 2);
        assert_eq!(s.group_by_time, Some((60_000_000_000, 10_000_000_000)));
        assert_eq!(s.group_by_tags, GroupTags::Keys(vec!["hostname".into()]));
        assert_eq!(
            (s.fill, s.descending, s.limit, s.slimit),
            (Fill::None, true, Some(5), Some(2))
        );
        assert!(
            matches!(one("SELECT percentile(x, 95) FROM m"), Statement::Select(s) if matches!(&s.fields[0], FieldExpr::Call { arg: Some(p), .. } if *p == 95.0))
        );
        assert!(
            matches!(one("show tag values from cpu with key in (a, b)"), Statement::ShowTagValues { keys: KeySelector::In(keys), .. } if keys.len() == 2)
        );
        assert_eq!(
            one("SHOW TAG VALUES WITH KEY =~ /reg.*/ LIMIT 2 OFFSET 1"),
            Statement::ShowTagValues {
                from: None,
                keys: KeySelector::Match("reg.*".into()),
                condition: None,
                page: Page {
                    limit: Some(2),
                    offset: 1
                }
            }
        );
        assert!(matches!(
            one("SHOW TAG VALUES FROM cpu WITH KEY !~ /a|b/"),
            Statement::ShowTagValues { keys: KeySelector::NotMatch(r), .. } if r == "a|b"
        ));
        assert!(matches!(
            one("SHOW TAG VALUES WITH KEY != region"),
            Statement::ShowTagValues { keys: KeySelector::NotEqual(k), .. } if k == "region"
        ));
        // OFFSET first is accepted too; LIMIT 0 shows everything, as in InfluxDB.
        assert_eq!(
            one("SHOW MEASUREMENTS OFFSET 3 LIMIT 0"),
            Statement::ShowMeasurements {
                with: None,
                page: Page {
                    limit: None,
                    offset: 3
                }
            }
        );
        assert_eq!(
            one("SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu.*/ LIMIT 100"),
            Statement::ShowMeasurements {
                with: Some(KeySelector::Match("cpu.*".into())),
                page: Page {
                    limit: Some(100),
                    offset: 0
                }
            }
        );
        assert!(matches!(
            one("SHOW MEASUREMENTS WITH MEASUREMENT = \"cpu\""),
            Statement::ShowMeasurements { with: Some(KeySelector::In(m)), .. } if m == ["cpu"]
        ));
        assert!(parse_statements("SHOW MEASUREMENTS WITH MEASUREMENT != cpu", 0).is_err());
        assert!(matches!(
            one("SHOW SERIES FROM cpu WHERE a = 'b' LIMIT 5"),
            Statement::ShowSeries {
                page: Page {
                    limit: Some(5),
                    offset: 0
                },
                ..
            }
        ));
        assert!(matches!(
            one("SHOW TAG KEYS LIMIT 1"),
            Statement::ShowTagKeys {
                page: Page { limit: Some(1), .. },
                ..
            }
        ));
        assert!(matches!(
            one("SHOW FIELD KEYS FROM cpu OFFSET 1"),
            Statement::ShowFieldKeys {
                page: Page { offset: 1, .. },
                ..
            }
        ));
        assert_eq!(
            one("CREATE RETENTION POLICY rp ON db DURATION 1d REPLICATION 1 DEFAULT"),
            Statement::CreateRetentionPolicy {
                name: "rp".into(),
                database: "db".into(),
                duration: Some(86_400_000_000_000)
            }
        );
        assert_eq!(
            parse_statements("SHOW DATABASES; SHOW MEASUREMENTS;", 0)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse_statements("SELECT FROM cpu", 0)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "found \"FROM\", expected a field, a function call or * at 7"
        );
        let e = parse_statements("SELECT a FROM m WHERE time > 'yesterday'", 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid time 'yesterday'") && e.ends_with("at 29"),
            "{e}"
        );
        assert!(parse_statements("SELECT a FROM m GROUP BY time(x)", 0).is_err());
        assert!(parse_statements("", 0).is_err());
        assert!(parse_statements("DROP TABLE x", 0).is_err());
    }
}
