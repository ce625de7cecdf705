//! `drover check`: validate the inventory and playbook and print every host's rendered
//! commands, connecting to nothing. Results a task registers do not exist yet, so templates
//! see a placeholder (`<ver.stdout>`) in their place, and `when:` conditions that read them
//! are shown as decided at run time.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Object, Value};

use crate::engine::plan::{Plan, PlannedAction, Text};
use crate::error::{Error, Result};

#[derive(Debug)]
struct Placeholder(String);

impl Object for Placeholder {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from_object(Placeholder(format!("{}.{key}", self.0))))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.0)
    }
}

/// Renders everything and returns what to print, or every render error found.
pub fn check(plan: &Plan) -> Result<String> {
    let mut out = String::new();
    let mut errors = RenderErrors::default();
    let mut registered: BTreeMap<String, Value> = BTreeMap::new();
    for play in &plan.plays {
        for task in play.tasks.iter() {
            if let Some(name) = &task.register {
                registered.insert(name.clone(), Value::from_object(Placeholder(name.clone())));
            }
        }
        let s = &play.settings;
        out.push_str(&format!(
            "play `{}`: {} host{}, strategy {}, batch size {}, concurrency {}\n",
            play.name,
            play.hosts.len(),
            if play.hosts.len() == 1 { "" } else { "s" },
            s.strategy.as_str(),
            s.batch_size,
            s.effective_concurrency(play.hosts.len())
        ));
        out.push_str(&default_brokers_warning(play));
        let registered = crate::template::to_value(&registered);
        for host in &play.hosts {
            out.push_str(&format!(
                "  {} ({} {}{})\n",
                host.name,
                host.endpoint.transport,
                host.endpoint.address,
                host.endpoint
                    .cli()
                    .map_or_else(String::new, |p| format!(", platform {}", p.name))
                    + &broker_note(host)
            ));
            let context = plan.context(host, &registered);
            for task in play.tasks.iter() {
                // A loop's item exists only at run time: a placeholder stands in.
                let context = match &task.audit.each {
                    Some(each) => {
                        let mut item = BTreeMap::new();
                        let var = each.var.clone();
                        item.insert(var.clone(), Value::from_object(Placeholder(var)));
                        minijinja::value::merge_maps([
                            context.clone(),
                            crate::template::to_value(&item),
                        ])
                    }
                    None => context.clone(),
                };
                let mut runtime = false;
                let condition = match &task.when {
                    None => String::new(),
                    Some((expr, text)) => {
                        runtime = match text {
                            Text::Template { referenced, .. } => referenced
                                .iter()
                                .any(|v| registered.get_attr(v).is_ok_and(|x| !x.is_undefined())),
                            Text::Plain(_) => false,
                        };
                        if runtime {
                            format!("  [when: {expr} — decided at run time]")
                        } else {
                            match plan.render(text, &context) {
                                Ok(v) if v == "true" => format!("  [when: {expr}]"),
                                Ok(_) => {
                                    let line = format!(
                                        "    {}. {}: skipped ({expr} is false)\n",
                                        task.index + 1,
                                        task.name
                                    );
                                    out.push_str(&line);
                                    continue;
                                }
                                Err(e) => {
                                    let at = (play.index, task.index, true);
                                    errors.add(at, &play.name, &task.name, expr, e, &host.name);
                                    continue;
                                }
                            }
                        }
                    }
                };
                // Every line of a `config` task, one per line of the listing.
                let texts: Vec<&Text> = match &task.action {
                    PlannedAction::Config(c) => c.lines.iter().collect(),
                    _ => vec![task.text()],
                };
                let rendered = texts
                    .iter()
                    .map(|t| plan.render_shown(host, t, &context).map_err(|e| (e, *t)))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|lines| lines.join("\n"));
                match rendered {
                    Ok(command) => {
                        // Secrets never reach a listing, a check's included.
                        let command = if task.no_log {
                            crate::secrets::HIDDEN.to_string()
                        } else {
                            plan.mask(host, &command)
                        };
                        let command = command.trim_end().replace('\n', "\n        ");
                        out.push_str(&format!(
                            "    {}. {}: {command}{condition}\n",
                            task.index + 1,
                            task.name
                        ));
                    }
                    // Guarded by a condition only the run can decide: it may never render.
                    Err((e, _)) if runtime => {
                        out.push_str(&format!(
                            "    {}. {}: cannot render yet ({e}){condition}\n",
                            task.index + 1,
                            task.name
                        ));
                    }
                    Err((e, text)) => {
                        let source = template_source(plan, text);
                        let at = (play.index, task.index, false);
                        errors.add(at, &play.name, &task.name, &source, e, &host.name);
                    }
                }
            }
        }
    }
    errors.into_result(out, &plan.path)
}

/// `file:line:col` of a template in the playbook: its first occurrence after the task's
/// `name:`, else its first occurrence. `None` for text not found as written (a folded
/// block, an escaped quote) or a playbook that cannot be read.
fn locate(path: &std::path::Path, task: &str, template: &str) -> Option<String> {
    let first = template.lines().next().filter(|l| !l.trim().is_empty())?;
    let source = std::fs::read_to_string(path).ok()?;
    let from = ["name: ", "name: \"", "name: '"]
        .iter()
        .find_map(|k| source.find(&format!("{k}{task}")))
        .unwrap_or(0);
    let offset = source[from..]
        .find(first)
        .map(|o| o + from)
        .or_else(|| source.find(first))?;
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    Some(format!("{}:{line}:{column}: ", path.display()))
}

/// The text a task's command was written as.
/// An MQTT host's broker, and whether it is the default one at the host's own address.
fn broker_note(host: &crate::engine::plan::PlannedHost) -> String {
    match &host.endpoint.target {
        crate::transport::Target::Mqtt(t) if t.default_broker => {
            format!(
                ", broker {} (no `mqtt_url`: the host's address)",
                t.options.url()
            )
        }
        crate::transport::Target::Mqtt(t) => format!(", broker {}", t.options.url()),
        _ => String::new(),
    }
}

/// Shared-mode hosts without `mqtt_url` get a broker at their own address; a few of them
/// with distinct addresses is almost always a forgotten `mqtt_url`, not a fleet of brokers.
fn default_brokers_warning(play: &crate::engine::plan::PlannedPlay) -> String {
    use crate::transport::mqtt::Mode;
    let brokers: std::collections::BTreeSet<String> = play
        .hosts
        .iter()
        .filter_map(|h| match &h.endpoint.target {
            crate::transport::Target::Mqtt(t)
                if t.default_broker && t.options.mode == Mode::Shared =>
            {
                Some(t.options.url())
            }
            _ => None,
        })
        .collect();
    if brokers.len() < DEFAULT_BROKERS_WARNING {
        return String::new();
    }
    format!(
        "  warning: {} MQTT hosts have no `mqtt_url`, so each connects to a broker at its own \
         address ({} brokers, e.g. {}); set `mqtt_url` (in `defaults` or a group) to the \
         broker they share\n",
        play.hosts
            .iter()
            .filter(|h| matches!(&h.endpoint.target, crate::transport::Target::Mqtt(t) if t.default_broker))
            .count(),
        brokers.len(),
        brokers.iter().next().map_or("", String::as_str)
    )
}

/// Distinct default brokers in one play from which `check` warns.
const DEFAULT_BROKERS_WARNING: usize = 3;

fn template_source(plan: &Plan, text: &Text) -> String {
    match text {
        Text::Plain(s) => s.clone(),
        Text::Template { name, .. } => plan
            .env
            .get_template(name)
            .map(|t| t.source().to_string())
            .unwrap_or_default(),
    }
}

/// Render errors grouped by where and why they happened: one message per task and error,
/// with the template text once and every host it failed for (folded), instead of one line
/// per host.
#[derive(Default)]
struct RenderErrors {
    /// (play, task, in `when`) and message → play name, task name, template, hosts.
    groups: Vec<(RenderSite, String, Group)>,
}

type RenderSite = (usize, usize, bool);

struct Group {
    play: String,
    task: String,
    template: String,
    hosts: Vec<String>,
}

impl RenderErrors {
    fn add(
        &mut self,
        at: RenderSite,
        play: &str,
        task: &str,
        template: &str,
        message: String,
        host: &str,
    ) {
        match self
            .groups
            .iter_mut()
            .find(|(site, m, _)| *site == at && *m == message)
        {
            Some((_, _, g)) => g.hosts.push(host.to_string()),
            None => self.groups.push((
                at,
                message,
                Group {
                    play: play.to_string(),
                    task: task.to_string(),
                    template: template.to_string(),
                    hosts: vec![host.to_string()],
                },
            )),
        }
    }

    fn into_result(self, out: String, path: &std::path::Path) -> Result<String> {
        if self.groups.is_empty() {
            return Ok(out);
        }
        let text: Vec<String> = self
            .groups
            .iter()
            .map(|((_, _, when), message, g)| {
                let n = g.hosts.len();
                let hosts = crate::report::fold(g.hosts.iter().map(String::as_str));
                let (what, label) = if *when { ("when: ", "when") } else { ("", "template") };
                let template = g.template.trim_end().replace('\n', "\n            ");
                let at = locate(path, &g.task, &g.template).unwrap_or_default();
                format!(
                    "{at}task `{}` (play `{}`): {what}{message}, for {n} host{}: {hosts}\n  {label}: {template}",
                    g.task,
                    g.play,
                    if n == 1 { "" } else { "s" },
                )
            })
            .collect();
        Err(Error::Usage(text.join("\nerror: ")))
    }
}
