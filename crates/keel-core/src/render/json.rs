//! The JSON output of `keel check --format json`: a documented, stable contract (see README).

use crate::evaluation::Evaluation;

/// Version of the JSON contract; bumped only on incompatible changes.
pub const JSON_VERSION: u32 = 1;

/// The evaluation as JSON, with a `version` field.
pub fn json(ev: &Evaluation) -> serde_json::Value {
    let mut value = serde_json::to_value(ev).expect("an evaluation is plain data");
    if let Some(map) = value.as_object_mut() {
        map.insert("version".into(), JSON_VERSION.into());
    }
    value
}
