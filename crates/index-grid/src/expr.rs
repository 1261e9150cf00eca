//! Predicates and expressions over tag sets, with InfluxDB's semantics for missing keys
//! (spec §5.6).

use regex::bytes::Regex;

use crate::error::{Error, Result};

/// One predicate on one tag key.
#[derive(Debug, Clone)]
pub enum Pred {
    /// `key = value`; with an empty value: the key is absent.
    Eq(Vec<u8>, Vec<u8>),
    /// `key != value`; true for series without the key (unless value is empty: then = exists).
    Neq(Vec<u8>, Vec<u8>),
    /// `key =~ /re/` (unanchored); a series without the key matches if `re` matches "".
    Regex(Vec<u8>, Regex),
    /// `key !~ /re/`; a series without the key matches if `re` does not match "".
    NotRegex(Vec<u8>, Regex),
    /// The series has the key.
    Exists(Vec<u8>),
    /// The series lacks the key.
    NotExists(Vec<u8>),
}

/// A boolean expression of predicates.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A leaf.
    Pred(Pred),
    /// Intersection; `And(vec![])` is every series of the measurement.
    And(Vec<Expr>),
    /// Union; `Or(vec![])` is nothing.
    Or(Vec<Expr>),
}

fn compile(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|e| Error::InvalidRegex(e.to_string()))
}

impl Expr {
    /// `key = value`.
    pub fn eq(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Expr {
        Expr::Pred(Pred::Eq(key.into(), value.into()))
    }
    /// `key != value`.
    pub fn neq(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Expr {
        Expr::Pred(Pred::Neq(key.into(), value.into()))
    }
    /// `key =~ /pattern/` (RE2 syntax, unanchored).
    pub fn regex(key: impl Into<Vec<u8>>, pattern: &str) -> Result<Expr> {
        Ok(Expr::Pred(Pred::Regex(key.into(), compile(pattern)?)))
    }
    /// `key !~ /pattern/`.
    pub fn not_regex(key: impl Into<Vec<u8>>, pattern: &str) -> Result<Expr> {
        Ok(Expr::Pred(Pred::NotRegex(key.into(), compile(pattern)?)))
    }
    /// The series has `key`.
    pub fn exists(key: impl Into<Vec<u8>>) -> Expr {
        Expr::Pred(Pred::Exists(key.into()))
    }
    /// The series lacks `key`.
    pub fn not_exists(key: impl Into<Vec<u8>>) -> Expr {
        Expr::Pred(Pred::NotExists(key.into()))
    }
    /// Every series of the measurement.
    pub fn all() -> Expr {
        Expr::And(Vec::new())
    }
    /// Whether a series with these tags (sorted by key) satisfies the expression.
    pub fn matches(&self, tags: &[(&[u8], &[u8])]) -> bool {
        match self {
            Expr::Pred(p) => match tags.binary_search_by(|t| t.0.cmp(p.key())) {
                Ok(i) => p.matches_value(tags[i].1),
                Err(_) => p.on_missing(),
            },
            Expr::And(c) => c.iter().all(|e| e.matches(tags)),
            Expr::Or(c) => c.iter().any(|e| e.matches(tags)),
        }
    }
}

impl Pred {
    /// The tag key the predicate looks at.
    pub fn key(&self) -> &[u8] {
        match self {
            Pred::Eq(k, _)
            | Pred::Neq(k, _)
            | Pred::Regex(k, _)
            | Pred::NotRegex(k, _)
            | Pred::Exists(k)
            | Pred::NotExists(k) => k,
        }
    }

    /// Truth for a series that has the key with value `x` (never empty).
    pub fn matches_value(&self, x: &[u8]) -> bool {
        match self {
            Pred::Eq(_, v) => x == &v[..],
            Pred::Neq(_, v) => x != &v[..],
            Pred::Regex(_, re) => re.is_match(x),
            Pred::NotRegex(_, re) => !re.is_match(x),
            Pred::Exists(_) => true,
            Pred::NotExists(_) => false,
        }
    }

    /// Truth for a series that lacks the key (InfluxDB compares the empty string).
    pub fn on_missing(&self) -> bool {
        match self {
            Pred::Eq(_, v) => v.is_empty(),
            Pred::Neq(_, v) => !v.is_empty(),
            Pred::Regex(_, re) => re.is_match(b""),
            Pred::NotRegex(_, re) => !re.is_match(b""),
            Pred::Exists(_) => false,
            Pred::NotExists(_) => true,
        }
    }

    /// Whether the predicate is the complement of a positive one (`!=`, `!~`): such predicates
    /// are evaluated on sparse keys as "live minus the positive form".
    pub(crate) fn negated(&self) -> bool {
        matches!(self, Pred::Neq(..) | Pred::NotRegex(..))
    }

    /// Truth of the positive form for a present value.
    pub(crate) fn positive_matches(&self, x: &[u8]) -> bool {
        if self.negated() {
            !self.matches_value(x)
        } else {
            self.matches_value(x)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_semantics() {
        let t: Vec<(&[u8], &[u8])> = vec![(b"a", b"1")];
        assert!(Expr::eq("a", "1").matches(&t));
        assert!(!Expr::eq("b", "1").matches(&t));
        assert!(Expr::eq("b", "").matches(&t));
        assert!(!Expr::eq("a", "").matches(&t));
        assert!(Expr::neq("b", "1").matches(&t));
        assert!(!Expr::neq("b", "").matches(&t));
        assert!(Expr::neq("a", "").matches(&t));
        assert!(Expr::regex("b", "^$").unwrap().matches(&t));
        assert!(Expr::regex("b", "x*").unwrap().matches(&t));
        assert!(!Expr::regex("b", "^1").unwrap().matches(&t));
        assert!(!Expr::not_regex("b", "x*").unwrap().matches(&t));
        assert!(Expr::not_regex("b", "^1").unwrap().matches(&t));
        assert!(Expr::exists("a").matches(&t) && !Expr::exists("b").matches(&t));
        assert!(Expr::not_exists("b").matches(&t));
        assert!(Expr::all().matches(&t));
        assert!(!Expr::Or(vec![]).matches(&t));
        assert!(!Expr::And(vec![Expr::eq("a", "1"), Expr::eq("a", "2")]).matches(&t));
        assert!(matches!(Expr::regex("a", "("), Err(Error::InvalidRegex(_))));
    }
}
