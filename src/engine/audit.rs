//! What turns a run into an audit, planned once per task and applied per host: `parse:`
//! (output to data), `failed_when:` / `changed_when:` (judged against the registered
//! result), `assert:` (conditions checked on the controller, without the device), `loop:`
//! (the task once per item, each item a result of its own) and `run_once:`.

use minijinja::Value;
use serde_json::Value as Json;

use super::plan::{Plan, PlannedHost, Text};
use crate::error::Result;
use crate::outcome::{Assertion, ErrorKind, TaskError, TaskResult, TaskStatus};
use crate::parse::{ParseSpec, Parser};
use crate::playbook::{Action, Condition, LoopItems, Task};

/// A task's audit keys, compiled.
#[derive(Debug, Default)]
pub struct PlannedAudit {
    pub parse: Option<Parser>,
    pub failed_when: Option<(String, Text)>,
    pub changed_when: Option<(String, Text)>,
    pub assert: Option<PlannedAssert>,
    pub each: Option<PlannedLoop>,
    pub run_once: bool,
}

#[derive(Debug)]
pub struct PlannedAssert {
    pub that: Vec<(String, Text)>,
    pub fail_msg: Option<Text>,
    pub success_msg: Option<Text>,
}

#[derive(Debug)]
pub struct PlannedLoop {
    pub items: PlannedItems,
    pub label: Option<Text>,
    pub var: String,
}

#[derive(Debug)]
pub enum PlannedItems {
    List(Vec<Json>),
    /// The expression rendered `| to_json`, read back as the list.
    Expression(String, Text),
}

impl PlannedAudit {
    /// Whether a run's result must be registered before it is judged.
    pub fn reads_result(&self) -> bool {
        self.failed_when.is_some() || self.changed_when.is_some()
    }
}

/// A condition as a template that renders `true` or `false`.
pub fn condition_template(expr: &str) -> String {
    format!("{{% if {expr} %}}true{{% else %}}false{{% endif %}}")
}

/// Compiles a task's audit keys; `add` compiles one template under a name made by `key`.
pub fn plan(
    task: &Task,
    key: &dyn Fn(&str) -> String,
    add: &mut dyn FnMut(String, &str) -> Result<Text>,
) -> Result<PlannedAudit> {
    let mut cond = |c: &Option<Condition>, tag: &str| -> Result<Option<(String, Text)>> {
        match c {
            Some(c) => Ok(Some((
                c.0.clone(),
                add(key(tag), &condition_template(&c.0))?,
            ))),
            None => Ok(None),
        }
    };
    let failed_when = cond(&task.failed_when, "failed_when")?;
    let changed_when = cond(&task.changed_when, "changed_when")?;
    let assert = match &task.action {
        Action::Assert(a) => {
            let mut that = Vec::new();
            for (i, c) in a.that.0.iter().enumerate() {
                let text = add(key(&format!("that{i}")), &condition_template(&c.0))?;
                that.push((c.0.clone(), text));
            }
            let mut msg = |m: &Option<crate::playbook::TemplateText>, tag: &str| match m {
                Some(t) => add(key(tag), &t.0).map(Some),
                None => Ok(None),
            };
            Some(PlannedAssert {
                that,
                fail_msg: msg(&a.fail_msg, "fail_msg")?,
                success_msg: msg(&a.success_msg, "success_msg")?,
            })
        }
        _ => None,
    };
    let each = match &task.loop_items {
        Some(items) => {
            let items = match items {
                LoopItems::List(list) => PlannedItems::List(list.clone()),
                LoopItems::Expression(expr) => {
                    let text = add(key("loop"), &format!("{{{{ ({expr}) | to_json }}}}"))?;
                    PlannedItems::Expression(expr.clone(), text)
                }
            };
            let label = match &task.loop_control.label {
                Some(t) => Some(add(key("label"), &t.0)?),
                None => None,
            };
            let var = task
                .loop_control
                .loop_var
                .clone()
                .unwrap_or_else(|| "item".into());
            Some(PlannedLoop { items, label, var })
        }
        None => None,
    };
    let parse = match &task.parse {
        Some(ParseSpec::Ready(p)) => Some(p.clone()),
        // Playbook::parse has read every template; one built in code has none.
        Some(ParseSpec::TextFsmFile(_)) | None => None,
    };
    Ok(PlannedAudit {
        parse,
        failed_when,
        changed_when,
        assert,
        each,
        run_once: task.run_once,
    })
}

fn holds(plan: &Plan, text: &Text, context: &Value) -> Result<bool, String> {
    plan.render(text, context).map(|v| v == "true")
}

fn render_error(message: String) -> TaskError {
    TaskError::new(ErrorKind::RenderError, message)
}

/// Parses a task's stdout into `result.parsed`.
pub fn parse(audit: &PlannedAudit, result: &mut TaskResult) -> Option<TaskError> {
    let parser = audit.parse.as_ref()?;
    match parser.run(&result.stdout) {
        Ok(value) => {
            result.parsed = Some(value);
            None
        }
        Err(message) => Some(TaskError::new(ErrorKind::ParseError, message)),
    }
}

/// `changed_when`, then `failed_when`, against the context that holds this run's result.
/// Returns the task's failure, if `failed_when` says so.
pub fn judge(
    plan: &Plan,
    audit: &PlannedAudit,
    result: &mut TaskResult,
    context: &Value,
) -> Option<TaskError> {
    if let Some((expr, text)) = &audit.changed_when {
        match holds(plan, text, context) {
            Ok(changed) => result.changed = Some(changed),
            Err(e) => return Some(render_error(format!("`changed_when: {expr}`: {e}"))),
        }
    }
    let (expr, text) = audit.failed_when.as_ref()?;
    match holds(plan, text, context) {
        Ok(true) => Some(TaskError::new(
            ErrorKind::ExpectationFailed,
            format!("failed_when: {expr}"),
        )),
        Ok(false) => None,
        Err(e) => Some(render_error(format!("`failed_when: {expr}`: {e}"))),
    }
}

/// Checks an `assert` task's conditions; every one is recorded, the first failure named.
pub fn assert(
    plan: &Plan,
    host: &PlannedHost,
    planned: &PlannedAssert,
    result: &mut TaskResult,
    context: &Value,
) -> Option<TaskError> {
    let mut failed = Vec::new();
    for (expr, text) in &planned.that {
        match holds(plan, text, context) {
            Ok(passed) => {
                result.assertions.push(Assertion {
                    that: expr.clone(),
                    passed,
                });
                if !passed {
                    failed.push(expr.as_str());
                }
            }
            Err(e) => return Some(render_error(format!("`assert: {expr}`: {e}"))),
        }
    }
    let message = |m: &Option<Text>| -> Result<Option<String>, TaskError> {
        match m {
            Some(t) => plan
                .render_shown(host, t, context)
                .map(Some)
                .map_err(render_error),
            None => Ok(None),
        }
    };
    if failed.is_empty() {
        match message(&planned.success_msg) {
            Ok(m) => {
                let m = m.unwrap_or_else(|| "all assertions passed".into());
                result.stdout = plan.mask(host, &m);
            }
            Err(e) => return Some(e),
        }
        return None;
    }
    let list = failed
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let text = match message(&planned.fail_msg) {
        Ok(Some(m)) => format!("{m} (failed: {list})"),
        Ok(None) => format!("assertion failed: {list}"),
        Err(e) => return Some(e),
    };
    Some(TaskError::new(
        ErrorKind::AssertionFailed,
        plan.mask(host, &text),
    ))
}

/// A loop's items for one host.
pub fn items(plan: &Plan, each: &PlannedLoop, context: &Value) -> Result<Vec<Json>, TaskError> {
    match &each.items {
        PlannedItems::List(list) => Ok(list.clone()),
        PlannedItems::Expression(expr, text) => {
            let json = plan
                .render(text, context)
                .map_err(|e| render_error(format!("`loop: {expr}`: {e}")))?;
            match serde_json::from_str::<Json>(&json) {
                Ok(Json::Array(items)) => Ok(items),
                Ok(Json::Null) => Ok(Vec::new()),
                _ => Err(render_error(format!("`loop: {expr}` is not a list"))),
            }
        }
    }
}

/// The context an item's templates see: the task's, with the item under its name.
pub fn item_context(each: &PlannedLoop, context: &Value, item: &Json) -> Value {
    let mut extra = serde_json::Map::new();
    extra.insert(each.var.clone(), item.clone());
    minijinja::value::merge_maps([context.clone(), crate::template::to_value(extra)])
}

/// What the report calls an item: its `loop_control.label`, or the item itself.
pub fn label(plan: &Plan, each: &PlannedLoop, item: &Json, context: &Value) -> String {
    let plain = || match item {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match &each.label {
        Some(text) => plan.render(text, context).unwrap_or_else(|_| plain()),
        None => plain(),
    }
}

/// A loop task's result from its items: failed when an item failed, skipped when every
/// item was, changed when an item changed.
pub fn fold(mut result: TaskResult, items: Vec<TaskResult>) -> TaskResult {
    let failed = items.iter().find(|i| i.status == TaskStatus::Failed);
    let ignored = items.iter().find(|i| i.status == TaskStatus::Ignored);
    result.status = if failed.is_some() {
        TaskStatus::Failed
    } else if ignored.is_some() {
        TaskStatus::Ignored
    } else if !items.is_empty() && items.iter().all(|i| i.status == TaskStatus::Skipped) {
        TaskStatus::Skipped
    } else {
        TaskStatus::Ok
    };
    result.error = failed.or(ignored).and_then(|i| {
        i.error.as_ref().map(|e| TaskError {
            kind: e.kind,
            message: format!("item {}: {}", i.name, e.message),
        })
    });
    let changed: Vec<bool> = items.iter().filter_map(|i| i.changed).collect();
    result.changed = (!changed.is_empty()).then(|| changed.iter().any(|c| *c));
    result.duration_ms = items.iter().map(|i| i.duration_ms).sum();
    result.attempts = items.iter().map(|i| i.attempts).max().unwrap_or(1);
    result.command = items.first().map(|i| i.command.clone()).unwrap_or_default();
    // One line per item, so plain output and the summary show a loop at a glance.
    result.stdout = items
        .iter()
        .map(|i| {
            let status = serde_json::to_value(i.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            match &i.error {
                Some(e) => format!("{}: {status} ({})\n", i.name, e.message),
                None => format!("{}: {status}\n", i.name),
            }
        })
        .collect();
    result.items = items;
    result
}

/// Whether a `run_once` task is left to the play's first host.
pub fn not_my_turn(audit: &PlannedAudit, first: Option<&str>, host: &str) -> bool {
    audit.run_once && first.is_some_and(|f| f != host)
}
