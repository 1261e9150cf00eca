//! Who answers for InfluxDB: the live Go program, or a transcript recorded from it (so saved
//! regression cases replay without Go).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::reference::{Reference, ReferenceError, Request, Response};

/// Answers requests as InfluxDB's code does.
pub trait Oracle {
    /// Answers one request.
    fn call(&mut self, request: &Request) -> Result<Response, ReferenceError>;
}

impl Oracle for Reference {
    fn call(&mut self, request: &Request) -> Result<Response, ReferenceError> {
        Reference::call(self, request)
    }
}

/// One recorded exchange (the request as JSON text, the response).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    /// The request exactly as it was sent.
    pub request: String,
    /// The reference program's answer.
    pub response: Response,
}

/// Passes requests to another oracle and records every exchange.
pub struct Recorder<'a> {
    inner: &'a mut dyn Oracle,
    /// The exchanges so far.
    pub log: Vec<Exchange>,
}

impl<'a> Recorder<'a> {
    /// Records what `inner` answers.
    pub fn new(inner: &'a mut dyn Oracle) -> Recorder<'a> {
        Recorder {
            inner,
            log: Vec::new(),
        }
    }
}

fn key(request: &Request) -> Result<String, ReferenceError> {
    serde_json::to_string(request).map_err(|e| ReferenceError::Protocol(e.to_string()))
}

impl Oracle for Recorder<'_> {
    fn call(&mut self, request: &Request) -> Result<Response, ReferenceError> {
        let response = self.inner.call(request)?;
        self.log.push(Exchange {
            request: key(request)?,
            response: response.clone(),
        });
        Ok(response)
    }
}

/// Answers from a recorded transcript; a request that was never recorded needs Go.
pub struct Replay {
    answers: HashMap<String, Response>,
}

impl Replay {
    /// A replay of `log`.
    pub fn new(log: &[Exchange]) -> Replay {
        Replay {
            answers: log
                .iter()
                .map(|e| (e.request.clone(), e.response.clone()))
                .collect(),
        }
    }
}

impl Oracle for Replay {
    fn call(&mut self, request: &Request) -> Result<Response, ReferenceError> {
        self.answers
            .get(&key(request)?)
            .cloned()
            .ok_or(ReferenceError::NotRecorded)
    }
}
