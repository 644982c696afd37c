//! The card registry: what Steward can run, by [`CardKey`]. A function card is one small pure
//! function `fn(&Inputs) -> Result<Outputs, CardError>`; control cards and triggers are
//! descriptors the engine interprets (they move through the flow rather than compute a value).

use std::collections::BTreeMap;

use serde_json::Value;
use time::OffsetDateTime;

use crate::address::CardKey;
use crate::condition::{self, Compared, ConditionError};
use crate::model::Card;

/// One input as a card function sees it: `(group, key)`, its declared type, its value.
#[derive(Debug, Clone, PartialEq)]
pub struct InputValue {
    pub group: Option<String>,
    pub key: String,
    /// The declared `value.type` (`string`, `number`, … or a struct schema).
    pub kind: Value,
    pub collection: bool,
    /// A user-added field (Concatenate's extra strings, Compose's placeholders, …).
    pub custom: bool,
    pub value: Value,
}

/// An output the card declares (Get Multiple reads its paths from them, the hidden expand card
/// its path lists).
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredOutput {
    pub group: Option<String>,
    pub key: String,
    /// The output's static `value.data`.
    pub data: Value,
}

/// A card's resolved inputs, in display order, and the time of the run (so Now is testable).
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub fields: Vec<InputValue>,
    pub outputs: Vec<DeclaredOutput>,
    pub now: OffsetDateTime,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs::new()
    }
}

impl Inputs {
    pub fn new() -> Inputs {
        Inputs {
            fields: Vec::new(),
            outputs: Vec::new(),
            now: OffsetDateTime::UNIX_EPOCH,
        }
    }

    /// The clock reading cards such as Now see.
    pub fn at(mut self, now: OffsetDateTime) -> Inputs {
        self.now = now;
        self
    }

    fn push(mut self, group: Option<&str>, key: &str, kind: &str, custom: bool, v: Value) -> Self {
        self.fields.push(InputValue {
            group: group.map(str::to_string),
            key: key.to_string(),
            collection: v.is_array() && kind != "object",
            kind: Value::String(kind.to_string()),
            custom,
            value: v,
        });
        self
    }

    /// A plain input (group `null`) typed from its value.
    pub fn with(self, key: &str, value: Value) -> Inputs {
        let kind = match &value {
            Value::Number(_) => "number",
            Value::Bool(_) => "boolean",
            Value::String(_) | Value::Null => "string",
            _ => "object",
        };
        self.push(None, key, kind, false, value)
    }

    /// A plain input with a declared type (`number`, `string`, `Date`, …).
    pub fn typed(self, key: &str, kind: &str, value: Value) -> Inputs {
        self.push(None, key, kind, false, value)
    }

    /// A user-added input.
    pub fn custom(self, key: &str, value: Value) -> Inputs {
        let kind = if value.is_number() {
            "number"
        } else {
            "string"
        };
        self.push(None, key, kind, true, value)
    }

    pub fn grouped(self, group: &str, key: &str, value: Value) -> Inputs {
        self.push(Some(group), key, "string", false, value)
    }

    pub fn declare_output(mut self, group: Option<&str>, key: &str, data: Value) -> Inputs {
        self.outputs.push(DeclaredOutput {
            group: group.map(str::to_string),
            key: key.to_string(),
            data,
        });
        self
    }

    pub fn field(&self, key: &str) -> Option<&InputValue> {
        self.fields
            .iter()
            .find(|f| f.group.is_none() && f.key == key)
    }

    /// A plain input's value; missing inputs read as null (looseNulls).
    pub fn get(&self, key: &str) -> &Value {
        self.field(key).map(|f| &f.value).unwrap_or(&Value::Null)
    }

    pub fn get_in(&self, group: &str, key: &str) -> &Value {
        self.fields
            .iter()
            .find(|f| f.group.as_deref() == Some(group) && f.key == key)
            .map(|f| &f.value)
            .unwrap_or(&Value::Null)
    }

    /// Plain inputs other than `known`, in display order: the user-added ones.
    pub fn others<'a>(&'a self, known: &'a [&str]) -> impl Iterator<Item = &'a InputValue> {
        self.fields
            .iter()
            .filter(move |f| f.group.is_none() && !known.contains(&f.key.as_str()))
    }

    pub fn text(&self, key: &str) -> String {
        crate::value::to_text(self.get(key))
    }

    pub fn number(&self, key: &str) -> Result<f64, CardError> {
        crate::value::to_number(self.get(key)).ok_or_else(|| CardError::Input {
            key: key.to_string(),
            message: format!("{} is not a number", self.get(key)),
        })
    }

    pub fn boolean(&self, key: &str) -> bool {
        crate::value::to_bool(self.get(key))
    }

    /// A list input; null reads as an empty list.
    pub fn list(&self, key: &str) -> Result<Vec<Value>, CardError> {
        match self.get(key) {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => Ok(items.clone()),
            Value::String(s) if s.trim_start().starts_with('[') => serde_json::from_str(s)
                .map_err(|e| CardError::input(key, format!("is not a list: {e}"))),
            other => Err(CardError::input(key, format!("{other} is not a list"))),
        }
    }

    /// An object input; null reads as `{}`, JSON text is parsed.
    pub fn object(&self, key: &str) -> Result<serde_json::Map<String, Value>, CardError> {
        match self.get(key) {
            Value::Null => Ok(serde_json::Map::new()),
            Value::Object(map) => Ok(map.clone()),
            Value::String(s) if s.trim().is_empty() => Ok(serde_json::Map::new()),
            Value::String(s) => serde_json::from_str(s)
                .map_err(|e| CardError::input(key, format!("is not an object: {e}"))),
            other => Err(CardError::input(key, format!("{other} is not an object"))),
        }
    }

    pub fn date(&self, key: &str) -> Result<OffsetDateTime, CardError> {
        crate::value::to_date(self.get(key))
            .ok_or_else(|| CardError::input(key, format!("{} is not a date", self.get(key))))
    }

    /// `left-operand OPERATOR right-operand` (in `group`, or the plain inputs), compared by the
    /// left operand's declared type.
    pub fn condition(&self, group: Option<&str>) -> Result<bool, CardError> {
        let find = |key: &str| {
            self.fields
                .iter()
                .find(|f| f.group.as_deref() == group && f.key == key)
        };
        let left = find("left-operand");
        let compared = left
            .map(|f| Compared::from_declared(&f.kind, f.collection))
            .unwrap_or(Compared::Json);
        let value = |f: Option<&InputValue>| f.map(|f| f.value.clone()).unwrap_or(Value::Null);
        let operator = crate::value::to_text(&value(find("operator")));
        condition::evaluate(
            &value(left),
            &operator,
            &value(find("right-operand")),
            compared,
        )
        .map_err(CardError::Condition)
    }
}

/// A card's outputs by `(group, key)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    pub values: Vec<(Option<String>, String, Value)>,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    pub fn one(key: &str, value: Value) -> Outputs {
        Outputs::new().with(key, value)
    }

    pub fn with(mut self, key: &str, value: Value) -> Outputs {
        self.values.push((None, key.to_string(), value));
        self
    }

    pub fn with_in(mut self, group: Option<&str>, key: &str, value: Value) -> Outputs {
        self.values
            .push((group.map(str::to_string), key.to_string(), value));
        self
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.get_in(None, key)
    }

    pub fn get_in(&self, group: Option<&str>, key: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(g, k, _)| g.as_deref() == group && k == key)
            .map(|(_, _, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CardError {
    #[error("input {key}: {message}")]
    Input { key: String, message: String },
    #[error(transparent)]
    Condition(#[from] ConditionError),
    /// The card ran and failed (Return Error If, a JSON parse error, …).
    #[error("{0}")]
    Failed(String),
}

impl CardError {
    pub fn input(key: &str, message: impl Into<String>) -> CardError {
        CardError::Input {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

pub type CardFn = fn(&Inputs) -> Result<Outputs, CardError>;

/// How a list card runs its helper flow once per item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Iteration {
    /// For Each: waits for every item; an item's error fails the card.
    Each,
    /// For Each – Ignore Errors.
    EachIgnoringErrors,
    /// Map: the list of the helper's Return values.
    Map,
    /// Filter Custom: the items for which the helper returned true.
    Filter,
    /// Reduce: the helper gets `memo` and returns the next one.
    Reduce,
}

/// Cards that steer the run rather than compute: the engine interprets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Does nothing (If lane heads, flows without a trigger).
    Noop,
    /// Does nothing; keeps its place in the chain.
    Comment,
    /// Assign: outputs mirror the inputs.
    Let,
    /// If/Else: runs the lane whose `branches` value equals the condition, then its join.
    If,
    /// Closes an If/Else: copies each input to the outputs `joins` names.
    Join,
    /// If/ElseIf: the first true condition group runs its embedded flow, else `else`.
    Branch,
    /// Stops the flow (or block) without error when the condition is false.
    ContinueIf,
    /// If Error: runs the embedded Try flow; on error the `policy.error` handler flow.
    TryCatch,
    /// Ends the flow; the caller gets `{key: value}` of the inputs.
    Return,
    /// Ends an API endpoint flow with `statusCode`, `headers`, `body`.
    ReturnRaw,
    /// Return Error If: fails the flow with `message` and `statusCode` when the condition holds.
    ThrowIf,
    /// Return Error: always fails with `message` and `statusCode`.
    Throw,
    /// Call Flow (waits for the helper's Return) and Call Flow Async (does not).
    CallFlow { wait: bool },
    /// A list card that runs a helper per item.
    Iterate(Iteration),
}

/// The card a flow starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Helper and scheduled flows (the call's or the scheduler's values become its outputs).
    Callable,
    /// API endpoint flows (`http:accept`).
    ApiEndpoint,
    /// Delegated flows run from the Admin Console (`http:delegated`).
    Delegated,
    /// A connector event card (`okta:userCreated`, …): the outbox dispatcher starts the flow
    /// once per matching event (see [`crate::events`]).
    Event,
}

#[derive(Debug, Clone, Copy)]
pub enum CardImpl {
    Function(CardFn),
    Control(Control),
    Trigger(Trigger),
    /// A connector action (`okta:hTTPRequest`, …): the engine hands it to the driver, which
    /// calls the connector with the card's connection (the crate stays pure).
    Connector,
}

/// What runs each card type.
#[derive(Debug, Clone, Default)]
pub struct CardRegistry {
    cards: BTreeMap<CardKey, CardImpl>,
    /// Import-time checks of connector cards (a streaming result set, …).
    checks: BTreeMap<CardKey, crate::connectors::CheckFn>,
}

impl CardRegistry {
    pub fn empty() -> CardRegistry {
        CardRegistry::default()
    }

    /// Every card Steward implements today.
    pub fn standard() -> CardRegistry {
        let mut registry = CardRegistry::empty();
        crate::cards::register_all(&mut registry);
        registry
    }

    pub fn function(&mut self, module: &str, key: &str, f: CardFn) {
        self.cards
            .insert(CardKey::kernel(module, key), CardImpl::Function(f));
    }

    pub fn control(&mut self, module: &str, key: &str, control: Control) {
        self.cards
            .insert(CardKey::kernel(module, key), CardImpl::Control(control));
    }

    pub fn trigger(&mut self, module: &str, key: &str, trigger: Trigger) {
        self.cards
            .insert(CardKey::kernel(module, key), CardImpl::Trigger(trigger));
    }

    /// A connector's event card: a trigger, not an action.
    pub fn connector_trigger(&mut self, connector: &str, action: &str, trigger: Trigger) {
        self.cards.insert(
            CardKey::connector(connector, action),
            CardImpl::Trigger(trigger),
        );
    }

    /// A connector action the driver runs (see [`crate::exec::StepOutcome::Connector`]).
    pub fn connector(&mut self, connector: &str, action: &str) {
        let key = CardKey::connector(connector, action);
        if let Some(card) = crate::connectors::by_key(&key) {
            self.checks.insert(key.clone(), card.check);
        }
        self.cards.insert(key, CardImpl::Connector);
    }

    /// Why a connector card, as configured, cannot run (empty: it can).
    pub fn check(&self, card: &Card) -> Vec<String> {
        self.checks
            .get(&card.address.card_key())
            .map(|check| check(card))
            .unwrap_or_default()
    }

    pub fn get(&self, key: &CardKey) -> Option<&CardImpl> {
        self.cards.get(key)
    }

    pub fn lookup(&self, card: &Card) -> Option<&CardImpl> {
        self.get(&card.address.card_key())
    }

    pub fn keys(&self) -> impl Iterator<Item = &CardKey> {
        self.cards.keys()
    }

    /// Runs a function card.
    pub fn call(&self, key: &CardKey, inputs: &Inputs) -> Result<Outputs, CardError> {
        match self.get(key) {
            Some(CardImpl::Function(f)) => f(inputs),
            _ => Err(CardError::Failed(format!("{key} is not a function card"))),
        }
    }
}
