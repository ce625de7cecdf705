//! [`Records`]: what a TextFSM template made of one output, kept compact. The column names
//! are built once per template and shared; a record is a row of fields that point into one
//! text buffer per output. Nothing is turned into JSON or template values until it is read:
//! the report serializes the rows straight from here, and `register` hands templates a view
//! ([`Records::to_value`]) that converts a field only when a template looks at it. At fleet
//! scale (thousands of hosts × thousands of rows) a map with its own keys and a `String` per
//! field was most of the parse's cost (bench/README.md).

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// The columns of a template's records: its `Value` names, in order.
#[derive(Debug)]
pub(crate) struct Columns {
    names: Vec<String>,
    /// Which columns are `List` values: their fields are spans of [`Records::items`].
    lists: Vec<bool>,
    /// Column indexes in name order: template maps iterate their keys sorted, and a row
    /// must read the same as the map it replaces.
    sorted: Vec<usize>,
}

impl Columns {
    /// The names in order, each with whether it is a `List` value.
    pub(crate) fn new(columns: Vec<(String, bool)>) -> Columns {
        let (names, lists): (Vec<String>, Vec<bool>) = columns.into_iter().unzip();
        let mut sorted: Vec<usize> = (0..names.len()).collect();
        sorted.sort_by(|&a, &b| names[a].cmp(&names[b]));
        Columns {
            names,
            lists,
            sorted,
        }
    }

    fn len(&self) -> usize {
        self.names.len()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// A byte range of [`Records::text`] or of [`Records::items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) const EMPTY: Span = Span { start: 0, end: 0 };

    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The records a template made of one output.
#[derive(Debug)]
pub struct Records {
    pub(crate) columns: Arc<Columns>,
    /// Every field's text, back to back.
    pub(crate) text: String,
    /// Row after row, [`Columns::len`] fields each: a field is the span of its text in
    /// [`Records::text`] (empty when the value was never set), or for a `List` column the
    /// span of its items in [`Records::items`]. Bare spans (8 bytes a field), since the
    /// column says which it is: the records of a host take about as much memory as its output.
    pub(crate) fields: Vec<Span>,
    /// The items of `List` fields.
    pub(crate) items: Vec<Span>,
}

/// One field as read back.
#[derive(Debug, Clone, Copy)]
enum FieldRef<'a> {
    Text(&'a str),
    List(&'a Records, &'a [Span]),
}

impl<'a> FieldRef<'a> {
    fn to_json(self) -> Json {
        match self {
            FieldRef::Text(t) => Json::String(t.to_string()),
            FieldRef::List(r, items) => Json::Array(
                items
                    .iter()
                    .map(|s| Json::String(r.str(*s).into()))
                    .collect(),
            ),
        }
    }

    fn to_value(self) -> Value {
        match self {
            FieldRef::Text(t) => Value::from(t),
            FieldRef::List(r, items) => Value::from(
                items
                    .iter()
                    .map(|s| Value::from(r.str(*s)))
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

impl Records {
    pub(crate) fn new(columns: Arc<Columns>) -> Records {
        Records {
            columns,
            text: String::new(),
            fields: Vec::new(),
            items: Vec::new(),
        }
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.fields
            .len()
            .checked_div(self.columns.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The column names, in `Value` order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.columns.names.iter().map(String::as_str)
    }

    fn str(&self, span: Span) -> &str {
        // Spans are made at character boundaries of `text`.
        self.text.get(span.range()).unwrap_or("")
    }

    /// Field `column` of record `row`.
    fn get(&self, row: usize, column: usize) -> FieldRef<'_> {
        let span = self.fields[row * self.columns.len() + column];
        if self.columns.lists[column] {
            FieldRef::List(self, &self.items[span.range()])
        } else {
            FieldRef::Text(self.str(span))
        }
    }

    /// Record `row` as a JSON object, keys in `Value` order.
    pub fn row_json(&self, row: usize) -> Json {
        let mut map = Map::with_capacity(self.columns.len());
        for (c, name) in self.columns.names.iter().enumerate() {
            map.insert(name.clone(), self.get(row, c).to_json());
        }
        Json::Object(map)
    }

    /// The records as JSON: a list of objects.
    pub fn to_json(&self) -> Json {
        Json::Array((0..self.len()).map(|r| self.row_json(r)).collect())
    }

    /// The records as a template value that reads like a list of maps (the keys in name
    /// order, as template maps have them); a field is converted when it is looked up.
    pub fn to_value(self: &Arc<Self>) -> Value {
        Value::from_object(RecordsView(self.clone()))
    }
}

impl Serialize for Records {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for row in 0..self.len() {
            seq.serialize_element(&RowSer(self, row))?;
        }
        seq.end()
    }
}

struct RowSer<'a>(&'a Records, usize);

impl Serialize for RowSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let RowSer(records, row) = *self;
        let mut map = s.serialize_map(Some(records.columns.len()))?;
        for (c, name) in records.columns.names.iter().enumerate() {
            match records.get(row, c) {
                FieldRef::Text(t) => map.serialize_entry(name, t)?,
                FieldRef::List(r, items) => map.serialize_entry(name, &ItemsSer(r, items))?,
            }
        }
        map.end()
    }
}

struct ItemsSer<'a>(&'a Records, &'a [Span]);

impl Serialize for ItemsSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.1.iter().map(|span| self.0.str(*span)))
    }
}

#[derive(Debug)]
struct RecordsView(Arc<Records>);

impl Object for RecordsView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let row = key.as_usize()?;
        (row < self.0.len()).then(|| {
            Value::from_object(RowView {
                records: self.0.clone(),
                row,
            })
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

#[derive(Debug)]
struct RowView {
    records: Arc<Records>,
    row: usize,
}

impl Object for RowView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let column = self.records.columns.position(key)?;
        Some(self.records.get(self.row, column).to_value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let columns = &self.records.columns;
        Enumerator::Values(
            columns
                .sorted
                .iter()
                .map(|&c| Value::from(columns.names[c].as_str()))
                .collect(),
        )
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.records.columns.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::textfsm::Template;

    fn records() -> Arc<Records> {
        let template = "\
Value Filldown Chassis (\\S+)
Value Required Slot (\\d+)
Value List Ports (\\S+)
Value Model (\\S*)

Start
  ^Chassis ${Chassis}
  ^Slot ${Slot} ${Model}
  ^  port ${Ports}
  ^end -> Record
";
        let text = "Chassis c1\nSlot 1 A\n  port p1\n  port p2\nend\nSlot 2 \nend\nChassis ä\nSlot 3 C\nend\n";
        Arc::new(Template::compile(template).unwrap().parse(text).unwrap())
    }

    #[test]
    fn serializes_as_its_json() {
        let r = records();
        assert_eq!(serde_json::to_value(&*r).unwrap(), r.to_json());
        assert_eq!(
            r.to_json(),
            serde_json::json!([
                {"Chassis": "c1", "Slot": "1", "Ports": ["p1", "p2"], "Model": "A"},
                {"Chassis": "c1", "Slot": "2", "Ports": [], "Model": ""},
                {"Chassis": "ä", "Slot": "3", "Ports": [], "Model": "C"},
            ])
        );
        // The Filldown value repeated on the second row is stored once.
        assert_eq!(r.text.matches("c1").count(), 1);
    }

    /// A template reads the view exactly as it read the same records converted from JSON.
    #[test]
    fn the_template_view_reads_like_the_json() {
        let r = records();
        let env = crate::template::environment();
        let view = minijinja::context! { r => r.to_value() };
        let json = minijinja::context! { r => crate::template::to_value(r.to_json()) };
        for source in [
            "{{ r }}",
            "{{ r[0] }}",
            "{{ r[-1].Chassis }}",
            "{{ r | length }} {{ r[0] | length }} {{ r[0].Ports | length }}",
            "{% for k, v in r[0] | items %}{{ k }}={{ v }};{% endfor %}",
            "{% for row in r %}{{ row.Slot }}{{ row['Model'] }}{% endfor %}",
            "{{ r | selectattr('Model', 'equalto', 'C') | map(attribute='Slot') | list }}",
            "{{ r[0].Ports is sequence }} {{ r[0] is mapping }} {{ r[1].Missing is defined }}",
            "{{ r[:2] }} {{ r | first }} {{ r | last }}",
            "{{ r | to_json }}",
            "{{ r[5] is defined }} {{ r and true }} {{ r[1].Ports and true }}",
        ] {
            let render = |ctx: &minijinja::Value| env.render_str(source, ctx.clone()).unwrap();
            assert_eq!(render(&view), render(&json), "{source}");
        }
        let eq = "{{ r == s }} {{ r[0] == s[0] }} {{ r[0] == s[1] }}";
        let both = minijinja::context! {
            r => r.to_value(),
            s => crate::template::to_value(r.to_json()),
        };
        assert_eq!(env.render_str(eq, both).unwrap(), "True True False");
    }

    #[test]
    fn no_records_is_an_empty_list() {
        let t = Template::compile("Value A (\\d)\n\nStart\n  ^a ${A} -> Record\n").unwrap();
        let r = t.parse("nothing here\n").unwrap();
        assert!(r.is_empty());
        assert_eq!(r.len(), 0);
        assert_eq!(r.to_json(), serde_json::json!([]));
        assert_eq!(serde_json::to_string(&r).unwrap(), "[]");
    }
}
