//! The `.flopack` format as Okta writes it. Every struct keeps the keys it does not name in
//! `extra`, so a flopack read and written again holds the same JSON (the UI-only keys included).
//! Maps keyed by id are `BTreeMap`s: the order of a JSON object means nothing to Okta, and a
//! sorted order makes exports stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::address::Address;

/// Keys this model does not name, kept as they were.
pub type Extra = Map<String, Value>;

/// The envelope: `{type:"flopack", version, created, flags, data, checksum?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flopack {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub flags: Map<String, Value>,
    pub data: FlopackData,
    /// Not a plain digest of `data` (it may be keyed): kept, never checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlopackData {
    #[serde(default)]
    pub flos: BTreeMap<String, Flow>,
    /// Connections, secrets removed.
    #[serde(default)]
    pub configs: BTreeMap<String, Connection>,
    #[serde(default)]
    pub tables: BTreeMap<String, Table>,
    /// Folders.
    #[serde(default)]
    pub groups: BTreeMap<String, Folder>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A folder (`data.groups`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Folder {
    pub id: String,
    pub data: FolderData,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderData {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The ancestor folder ids joined by `.` (1.4.0 and later); `""` at the top.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Workflows Table (`data.tables`, module `stash`). Exports hold no rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub data: TableData,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableData {
    /// May name a folder that is not in the file.
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub structure: Vec<Column>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// `str`, `dec`, `dte` or `bln`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub default: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A connection placeholder (`data.configs`): `{id, name, module, data: null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub name: String,
    /// The connector: `okta`, `httpfunctions`, … (equals the cards' connector).
    pub module: String,
    #[serde(default)]
    pub data: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A flow (`data.flos`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub data: FlowData,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of a flow; also the shape of an inline sub-flow embedded in a card's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowData {
    /// `null` on top-level flows, a string on embedded ones.
    #[serde(default)]
    pub id: Option<String>,
    pub uuid: String,
    /// Every card, those inside If/Else lanes included. Not the execution order.
    #[serde(default)]
    pub methods: Vec<Card>,
    /// Sequencing edges `[from, to]`: `to` runs after `from`.
    #[serde(default)]
    pub orderings: BTreeMap<String, Ordering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<Cron>,
    /// `open`/`medium` on API endpoint flows, `high` on delegated ones.
    #[serde(default)]
    pub security_level: Option<String>,
    /// "Save all data that passes through the flow" (execution history).
    #[serde(default)]
    pub log: bool,
    #[serde(default, rename = "inheritLog")]
    pub inherit_log: bool,
    /// The folder id: a hint, it may name a folder absent from the file.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `[from, to]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ordering(pub String, pub String);

/// A schedule: cron fields as text (`"*/15"`, `"0,4"`), an IANA time zone. `{}` when unscheduled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cron {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_the_month: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_the_week: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Cron {
    /// `seconds minutes hours day-of-month month day-of-week`, `*` for a missing field.
    pub fn expression(&self) -> String {
        [
            &self.seconds,
            &self.minutes,
            &self.hours,
            &self.day_of_the_month,
            &self.month,
            &self.day_of_the_week,
        ]
        .iter()
        .map(|f| f.as_deref().unwrap_or("*"))
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// A card (Okta calls it a method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Unique within its flow.
    pub uuid: String,
    pub address: Address,
    pub node: Node,
    /// Outgoing data wiring: output id → target card uuid → pins.
    #[serde(default)]
    pub pins: BTreeMap<String, BTreeMap<String, Vec<Pin>>>,
    /// `control:if` only: branch head (a hidden noop) → the outcome that runs it.
    #[serde(default)]
    pub branches: BTreeMap<String, bool>,
    /// `control:join` only: input id → the outputs that receive its value.
    #[serde(default)]
    pub joins: BTreeMap<String, Vec<JoinTarget>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub key: String,
    pub data: NodeData,
    pub model: CardModel,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeData {
    /// The title on the card (users rename cards).
    #[serde(default)]
    pub name: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The part of `node.model` an engine needs; the UI and catalog keys stay in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardModel {
    #[serde(default)]
    pub inputs: Fields,
    #[serde(default)]
    pub outputs: Fields,
    #[serde(default)]
    pub policy: Policy,
    /// Milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// The connection id (a key of `data.configs`), when the card uses one.
    #[serde(default)]
    pub config: Option<String>,
    /// Each output takes the value of the input with the same (group, key).
    #[serde(default)]
    pub mirrored: bool,
    /// `false` on hidden cards (`object:expand`, If lane heads): they still run.
    #[serde(default = "yes")]
    pub displayed: bool,
    /// Event trigger cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<bool>,
    #[serde(
        default,
        rename = "webhookList",
        skip_serializing_if = "Option::is_none"
    )]
    pub webhook_list: Option<bool>,
    /// `{title, markdown}` on comments, the catalog text on connector cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    #[serde(default)]
    pub error: ErrorPolicy,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `node.model.policy.error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorPolicy {
    /// `finish` (halt), `return` (halt, give values), `flo` (run a helper), `handler` (If Error).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    /// Milliseconds, or a `[min, max]` range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Value>,
    /// `ratelimits`: retry only on 429.
    #[serde(
        default,
        rename = "retryCondition",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_condition: Option<String>,
    /// A helper uuid (`flo`), an embedded flow (`handler`), or leftover data (an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flo: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Default for ErrorPolicy {
    fn default() -> Self {
        ErrorPolicy {
            kind: "finish".into(),
            retry: None,
            delay: None,
            retry_condition: None,
            flo: None,
            extra: Extra::new(),
        }
    }
}

impl ErrorPolicy {
    /// The flow this policy runs on error: a helper for `flo`, the If Error block for `handler`.
    pub fn flow_ref(&self) -> Option<FlowRef> {
        match self.kind.as_str() {
            "flo" | "handler" => self.flo.as_ref().and_then(FlowRef::from_value),
            _ => None,
        }
    }
}

/// An inputs or outputs container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fields {
    /// Users may add custom fields.
    #[serde(default)]
    pub extensible: bool,
    /// Field id → field.
    #[serde(default)]
    pub data: BTreeMap<String, Field>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Fields {
    /// The fields in display order (`metadata.index`, then id): the order custom inputs
    /// (Concatenate's strings, List Construct's items) are read in.
    pub fn ordered(&self) -> Vec<&Field> {
        let mut fields: Vec<&Field> = self.data.values().collect();
        fields.sort_by(|a, b| {
            (a.metadata.index.unwrap_or(i64::MAX), &a.id)
                .cmp(&(b.metadata.index.unwrap_or(i64::MAX), &b.id))
        });
        fields
    }

    pub fn by_key(&self, group: Option<&str>, key: &str) -> Option<&Field> {
        self.data
            .values()
            .find(|f| f.group.as_deref() == group && f.key == key)
    }
}

/// One input or output. Pins address it by `id`; the card's meaning by `(group, key)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub id: String,
    #[serde(default)]
    pub group: Option<String>,
    pub key: String,
    pub value: FieldValue,
    #[serde(default)]
    pub metadata: FieldMetadata,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Field {
    /// `group.key`, or `key` for a plain field.
    pub fn path(&self) -> String {
        match &self.group {
            Some(g) => format!("{g}.{}", self.key),
            None => self.key.clone(),
        }
    }

    /// The flow this input names, when its type is `flo`.
    pub fn flow_ref(&self) -> Option<FlowRef> {
        if self.value.kind.as_str() == Some("flo") {
            FlowRef::from_value(&self.value.data)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldValue {
    /// `string`, `number`, `boolean`, `Date`, `object`, `flo`, `file`, or a struct schema
    /// `{name: {type, collection}}`.
    #[serde(rename = "type")]
    pub kind: Value,
    /// A list of `kind`.
    #[serde(default)]
    pub collection: bool,
    /// The static value, used when no pin feeds the input.
    #[serde(default)]
    pub data: Value,
    /// List iteration cards: how each item reaches the helper input (`false` elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl FieldValue {
    /// The proxy rule of a list-iteration input, when it has one.
    pub fn proxy_rule(&self) -> Option<Proxy> {
        let p = self.proxy.as_ref()?.as_object()?;
        let dest = p.get("dest").and_then(Value::as_object);
        Some(Proxy {
            dynamic: p.get("dynamic").and_then(Value::as_bool).unwrap_or(false),
            path: p.get("path").and_then(Value::as_str).map(str::to_string),
            dest_key: dest
                .and_then(|d| d.get("key"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }
}

/// `{dynamic, path, dest:{key}}`: dynamic inputs read the current item (at `path`, or whole
/// when it is empty); static ones pass the card input's own value on every iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub dynamic: bool,
    pub path: Option<String>,
    pub dest_key: String,
}

/// The metadata keys that carry meaning; display hints stay in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMetadata {
    /// Display order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<bool>,
    /// Container input ↔ the callable inside the block that receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wormhole_method_id: Option<String>,
    /// Hidden `object:expand` cards: where their object comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_method_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_output_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<Value>>,
    /// Call Flow inputs passed to the helper by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transient: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One wire from a source output to a target input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pin {
    pub input: String,
    /// Automatic type conversion, keyed by the source output id.
    #[serde(default)]
    pub transform: Option<BTreeMap<String, Transform>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transform {
    /// `dateTime`, `isoString`, `toString`, `booleanToString`, `parseFloat`, `parse`,
    /// `stringify`, `wrapArray`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_wrap_array: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinTarget {
    pub output: String,
    #[serde(default)]
    pub transform: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A reference to another flow from a `flo` input or an error policy.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowRef {
    /// A helper flow: a key of `data.flos`.
    Named(String),
    /// An anonymous inline sub-flow (If/ElseIf lanes, If Error blocks, event wrappers).
    Embedded(Box<FlowData>),
    /// Something else under a `flo` type (an empty string: no helper chosen, or a malformed
    /// embedded flow): kept, and reported.
    Invalid(String),
}

impl FlowRef {
    fn from_value(value: &Value) -> Option<FlowRef> {
        match value {
            Value::String(s) if s.is_empty() => Some(FlowRef::Invalid("no flow chosen".into())),
            Value::String(s) => Some(FlowRef::Named(s.clone())),
            Value::Object(_) => Some(match FlowData::deserialize(value) {
                Ok(flow) => FlowRef::Embedded(Box::new(flow)),
                Err(e) => FlowRef::Invalid(format!("an embedded flow that does not parse: {e}")),
            }),
            // Leftover integers on `finish` policies, nulls on unset inputs.
            _ => None,
        }
    }
}

impl FlowData {
    pub fn card(&self, uuid: &str) -> Option<&Card> {
        self.methods.iter().find(|c| c.uuid == uuid)
    }
}
