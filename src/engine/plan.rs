//! The plan: hosts × tasks per play, with every template compiled once per task and every
//! host's variables resolved once. Building it connects to nothing.

use std::collections::HashSet;
use std::sync::Arc;

use minijinja::{Environment, Value};

use crate::error::{Error, Result};
use crate::inventory::{self, Connection, Inventory, Vars};
use crate::platform::Platforms;
use crate::playbook::mqtt::{Correlation, JsonPath, MqttTask, Payload};
use crate::playbook::{Action, Condition, Playbook, TemplateText};
use crate::settings::{Overrides, RunSettings};
use crate::template;
use crate::transport::{reply_filter, ActionKind, Endpoint, Transport};

/// Text that is either used as-is or rendered per host from a compiled template.
#[derive(Debug, Clone)]
pub enum Text {
    Plain(String),
    Template {
        name: String,
        referenced: HashSet<String>,
    },
}

#[derive(Debug)]
pub struct PlannedTask {
    pub index: usize,
    pub name: String,
    pub action: PlannedAction,
    pub when: Option<(String, Text)>,
    /// Runs again (up to `retries` more times) until this holds.
    pub until: Option<(String, Text)>,
    pub retries: u32,
    pub delay: std::time::Duration,
    pub register: Option<String>,
    pub exit_codes: Vec<i32>,
    pub stdout_contains: Vec<Text>,
    pub stdout_not_contains: Vec<Text>,
    pub stdout_matches: Vec<regex_lite::Regex>,
    pub ignore_errors: bool,
    /// `no_log` on the task or its play: command, output and error are hidden.
    pub no_log: bool,
    pub timeout: Option<std::time::Duration>,
    /// Runs in a network device's privileged mode (`enable: true` on the task or the play).
    pub enable: bool,
    /// `parse`, `failed_when`, `changed_when`, `assert`, `loop`, `run_once`.
    pub audit: super::audit::PlannedAudit,
}

/// What a task does, with its templates compiled.
#[derive(Debug)]
pub enum PlannedAction {
    Command(Text),
    Shell(Text),
    /// An MQTT publish to the topic `Text`.
    Mqtt(Text, Box<PlannedMqtt>),
    /// Lines for a network device's config mode.
    Config(Box<PlannedConfig>),
}

/// A `config` task with its lines compiled.
#[derive(Debug)]
pub struct PlannedConfig {
    pub lines: Vec<Text>,
    pub save: bool,
}

impl PlannedTask {
    /// The task kind as a playbook spells it.
    pub fn kind(&self) -> &'static str {
        if self.audit.assert.is_some() {
            return "assert";
        }
        self.action_kind().name()
    }

    /// The kind, as a transport's plan-time check sees it.
    pub fn action_kind(&self) -> ActionKind {
        match &self.action {
            PlannedAction::Command(_) => ActionKind::Command,
            PlannedAction::Shell(_) => ActionKind::Shell,
            PlannedAction::Mqtt(_, m) => ActionKind::Mqtt {
                v5_correlation: m
                    .reply
                    .as_ref()
                    .is_some_and(|r| r.correlation == Correlation::V5),
            },
            PlannedAction::Config(_) => ActionKind::Config,
        }
    }

    /// The command line, script or topic: the text rendered per host (a `config` task's
    /// first line).
    pub fn text(&self) -> &Text {
        match &self.action {
            PlannedAction::Command(t) | PlannedAction::Shell(t) | PlannedAction::Mqtt(t, _) => t,
            PlannedAction::Config(c) => &c.lines[0],
        }
    }
}

/// An `mqtt` task with its templates compiled.
#[derive(Debug)]
pub struct PlannedMqtt {
    pub payload: PlannedPayload,
    pub qos: u8,
    pub retain: bool,
    pub reply: Option<PlannedReply>,
    pub idempotent: bool,
}

#[derive(Debug)]
pub enum PlannedPayload {
    Text(Text),
    /// A JSON document and its templated string leaves, by JSON pointer.
    Json(serde_json::Value, Vec<(String, Text)>),
}

#[derive(Debug)]
pub struct PlannedReply {
    pub topic: Text,
    pub filter: String,
    pub correlation: Correlation,
    pub field: JsonPath,
    pub status_field: Option<JsonPath>,
    pub timeout: Option<std::time::Duration>,
}

#[derive(Debug)]
pub struct PlannedHost {
    pub name: Arc<str>,
    /// The host as its transport parsed it.
    pub endpoint: Endpoint,
    /// Inventory vars, play vars, extra vars and the magic variables; registered results
    /// and extra vars are layered on top when rendering.
    pub vars: Value,
    /// Values of secret-named variables, masked in everything drover writes.
    pub secrets: Vec<String>,
    /// What templates made of those secrets (see [`Plan::render_shown`]), masked as well.
    pub derived: std::sync::Mutex<Vec<String>>,
}

impl PlannedHost {
    /// The host's inventory groups, as its `group_names` variable lists them.
    pub fn group_names(&self) -> Vec<String> {
        self.vars
            .get_attr("group_names")
            .ok()
            .and_then(|v| v.try_iter().ok())
            .map(|it| it.filter_map(|g| g.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

#[derive(Debug)]
pub struct PlannedPlay {
    pub index: usize,
    pub name: String,
    pub pattern: String,
    pub settings: RunSettings,
    pub hosts: Vec<Arc<PlannedHost>>,
    pub tasks: Arc<[PlannedTask]>,
    /// `serial:`'s batch sizes, when the play gives them as a list or a percentage.
    pub batch_sizes: Option<Vec<usize>>,
}

impl PlannedPlay {
    /// The play's hosts cut into batches, as its settings (and `serial:`) say.
    pub fn batches(&self) -> Vec<&[Arc<PlannedHost>]> {
        use crate::settings::Strategy;
        let mut rest = &self.hosts[..];
        match (
            &self.batch_sizes,
            self.settings.strategy,
            self.settings.batch_size,
        ) {
            (Some(sizes), Strategy::Batched, _) => sizes
                .iter()
                .map(|&n| {
                    let (batch, tail) = rest.split_at(n.min(rest.len()));
                    rest = tail;
                    batch
                })
                .collect(),
            (_, Strategy::Batched, n) if n > 0 => rest.chunks(n).collect(),
            _ if rest.is_empty() => Vec::new(),
            _ => vec![rest],
        }
    }
}

#[derive(Debug)]
pub struct Plan {
    /// The playbook's file, for messages that point into it.
    pub path: std::path::PathBuf,
    pub env: Environment<'static>,
    /// The run's secret references (`lookup(…)`) and the values they returned.
    pub lookups: template::Lookups,
    pub plays: Vec<PlannedPlay>,
    /// `--extra-vars`: the highest precedence.
    pub extra_vars: Value,
}

/// What the command line adds to a playbook.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub limit: Option<String>,
    pub extra_vars: Vars,
    pub overrides: Overrides,
    /// `--tags` / `--skip-tags`.
    pub tags: crate::playbook::TagFilter,
    /// `--shard`, `--retry-failed`: applied after the play's pattern and `--limit`.
    pub select: crate::history::Selection,
    /// The network platforms a host's `platform` names: the shipped ones, an inventory's and
    /// `--platforms`. `None`: the shipped ones.
    pub platforms: Option<Arc<Platforms>>,
}

impl Plan {
    pub fn build(
        playbook: &Playbook,
        inventory: &Inventory,
        options: &PlanOptions,
        transport: &dyn Transport,
    ) -> Result<Plan> {
        let base = playbook.path.parent().unwrap_or(std::path::Path::new(""));
        let lookups = template::Lookups::new(base);
        let mut env = template::environment_with(lookups.clone());
        let platforms = match &options.platforms {
            Some(p) => p.clone(),
            None => Arc::new(Platforms::shipped()),
        };
        let limit = match &options.limit {
            Some(l) => Some(
                inventory::select(inventory, l)?
                    .into_iter()
                    .collect::<HashSet<_>>(),
            ),
            None => None,
        };
        let groups =
            minijinja::context! { groups => crate::template::to_value(inventory.groups_map()) };
        let mut plays = Vec::new();
        let mut shared = super::shared_vars::SharedVars::default();
        for (pi, play) in playbook.plays.iter().enumerate() {
            let mut names = inventory::select(inventory, &play.hosts)?;
            if let Some(limit) = &limit {
                names.retain(|h| limit.contains(h));
            }
            names.retain(|h| options.select.keeps(h));
            let mut settings = RunSettings::default()
                .with(&play.overrides())
                .with(&options.overrides);
            let mut hosts = Vec::with_capacity(names.len());
            for name in names {
                let mut vars = inventory.resolve(&name);
                vars.extend(play.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
                let mut effective = vars;
                effective.extend(
                    options
                        .extra_vars
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
                let mut secrets = Vec::new();
                for (key, value) in effective.iter_mut() {
                    // A variable whose value is a secret reference is its result, secret.
                    if let serde_json::Value::String(text) = value {
                        if text.contains("lookup(") && template::is_template(text) {
                            let found = env.render_str(text, ()).map_err(|e| Error::Invalid {
                                what: format!("host {name}, variable `{key}`"),
                                message: template::describe(&e),
                            })?;
                            crate::secrets::add(&found, &mut secrets);
                            *value = serde_json::Value::String(found);
                        }
                    }
                    let listed = play
                        .secret
                        .0
                        .iter()
                        .chain(play.tasks.iter().flat_map(|t| &t.secret))
                        .any(|s| s == key);
                    crate::secrets::collect(key, value, listed, &mut secrets);
                }
                let connection = Connection::from_vars(&name, effective)?;
                let invalid = |message: String| Error::Invalid {
                    what: format!("host {name}"),
                    message,
                };
                let mut endpoint = transport.endpoint(&name, &connection).map_err(invalid)?;
                endpoint.platform = platforms.for_host(&connection.vars).map_err(invalid)?;
                if let Some(p) = endpoint.cli().filter(|_| endpoint.transport != "ssh") {
                    return Err(invalid(format!(
                        "`platform: {}` is a network device's CLI, which drover reaches over \
                         ssh; this host's transport is {}",
                        p.name, endpoint.transport
                    )));
                }
                let group_names: Vec<&str> = inventory.group_order(&name);
                let mut magic = Vars::new();
                magic.insert("inventory_hostname".into(), name.clone().into());
                for (key, value) in &endpoint.vars {
                    magic.insert((*key).into(), value.clone());
                }
                magic.insert("group_names".into(), serde_json::json!(group_names));
                // The connection's vars include the extra vars, which `context` puts on top
                // again: the order the templates see is unchanged.
                let mut sources = inventory.var_layers(&name);
                sources.extend([&play.vars, &options.extra_vars]);
                let mut view = shared.view(&sources, &connection.vars);
                view.extend([crate::template::to_value(&magic), groups.clone()]);
                let vars = minijinja::value::merge_maps(view);
                hosts.push(Arc::new(PlannedHost {
                    name: name.into(),
                    endpoint,
                    vars,
                    secrets,
                    derived: Default::default(),
                }));
            }
            let endpoints: Vec<(&str, &crate::transport::Endpoint)> =
                hosts.iter().map(|h| (&*h.name, &h.endpoint)).collect();
            transport
                .check_play(&endpoints)
                .map_err(|message| Error::Invalid {
                    what: format!("play {}", pi + 1),
                    message,
                })?;
            // A `--batch-size` flag outranks the play's `serial:`.
            let batch_sizes = play
                .serial
                .as_ref()
                .filter(|s| s.first_count().is_none() && options.overrides.batch_size.is_none())
                .map(|s| s.batch_sizes(hosts.len()));
            if let Some(largest) = batch_sizes.as_ref().and_then(|s| s.iter().max()) {
                settings.batch_size = *largest;
            }
            let mut tasks = Vec::new();
            for (ti, task) in play.tasks.iter().enumerate() {
                let tags: Vec<String> = play.tags.0.iter().chain(&task.tags).cloned().collect();
                if !options.tags.selects(&tags) {
                    continue;
                }
                let key = |what: &str| format!("p{pi}.t{ti}.{what}");
                let mut add = |name: String, text: &str| -> Result<Text> {
                    compile(&mut env, name, text, &playbook.path)
                };
                let config = match &task.action {
                    Action::Config(c) => Some(PlannedConfig {
                        lines: c
                            .lines
                            .iter()
                            .enumerate()
                            .map(|(i, l)| add(key(&format!("cfg{i}")), &l.0))
                            .collect::<Result<_>>()?,
                        save: c.save,
                    }),
                    _ => None,
                };
                let command = match &config {
                    Some(_) => Text::Plain(String::new()),
                    None => add(key("cmd"), task.action.text())?,
                };
                let mut condition = |c: &Option<Condition>, tag: &str| -> Result<_> {
                    match c {
                        Some(c) => {
                            let wrapped =
                                format!("{{% if {} %}}true{{% else %}}false{{% endif %}}", c.0);
                            Ok(Some((c.0.clone(), add(key(tag), &wrapped)?)))
                        }
                        None => Ok(None),
                    }
                };
                let when = condition(&task.when, "when")?;
                let until = condition(&task.until, "until")?;
                let texts =
                    |list: &[TemplateText],
                     tag: &str,
                     add: &mut dyn FnMut(String, &str) -> Result<Text>| {
                        list.iter()
                            .enumerate()
                            .map(|(i, t)| add(key(&format!("{tag}{i}")), &t.0))
                            .collect::<Result<Vec<_>>>()
                    };
                let stdout_contains = texts(&task.expect.stdout_contains.0, "c", &mut add)?;
                let stdout_not_contains = texts(&task.expect.stdout_not_contains.0, "n", &mut add)?;
                let action = match &task.action {
                    Action::Mqtt(m) => PlannedAction::Mqtt(
                        command,
                        Box::new(plan_mqtt(m, task.idempotent, &key, &mut add)?),
                    ),
                    Action::Shell(_) => PlannedAction::Shell(command),
                    _ => match config {
                        Some(c) => PlannedAction::Config(Box::new(c)),
                        None => PlannedAction::Command(command),
                    },
                };
                let audit = super::audit::plan(task, &key, &mut add)?;
                tasks.push(PlannedTask {
                    index: tasks.len(),
                    // A `no_log` task named by its command line is named by its number.
                    name: if (task.no_log || play.no_log) && task.name == task.action.text() {
                        format!("task {}", ti + 1)
                    } else {
                        task.name.clone()
                    },
                    action,
                    when,
                    until,
                    retries: task.retries,
                    delay: task.delay,
                    register: task.register.clone(),
                    exit_codes: task.expect.exit_code.0.clone(),
                    stdout_contains,
                    stdout_not_contains,
                    stdout_matches: task
                        .expect
                        .stdout_matches
                        .0
                        .iter()
                        .map(|r| r.0.clone())
                        .collect(),
                    ignore_errors: task.ignore_errors,
                    no_log: task.no_log || play.no_log,
                    timeout: task.timeout,
                    enable: task.enable.or(play.enable).unwrap_or(false),
                    audit,
                });
            }
            for host in &hosts {
                // An `assert` runs on the controller: any host can have one.
                for task in tasks.iter().filter(|t| t.audit.assert.is_none()) {
                    let enable = task.enable.then_some(ActionKind::Enable);
                    for kind in [Some(task.action_kind()), enable].into_iter().flatten() {
                        transport
                            .supports(&host.endpoint, kind)
                            .map_err(|message| Error::Invalid {
                                what: format!("host {}", host.name),
                                message: format!("task `{}` {message}", task.name),
                            })?;
                    }
                }
            }
            plays.push(PlannedPlay {
                index: pi,
                name: play.display_name(),
                pattern: play.hosts.clone(),
                settings,
                hosts,
                tasks: tasks.into(),
                batch_sizes,
            });
        }
        if plays.iter().all(|p| p.hosts.is_empty()) && !options.select.may_be_empty() {
            return Err(Error::NoHosts {
                pattern: options
                    .limit
                    .clone()
                    .unwrap_or_else(|| "(the playbook's plays)".into()),
            });
        }
        let extra_vars = crate::template::to_value(&options.extra_vars);
        Ok(Plan {
            path: playbook.path.clone(),
            env,
            lookups,
            plays,
            extra_vars,
        })
    }

    /// `text` with `host`'s secrets and every secret reference's value masked.
    pub fn mask(&self, host: &PlannedHost, text: &str) -> String {
        let mut found = Vec::new();
        for value in self.lookups.values() {
            crate::secrets::add(&value, &mut found);
        }
        let derived = host.derived.lock().unwrap_or_else(|e| e.into_inner());
        crate::secrets::mask(text, host.secrets.iter().chain(&found).chain(&*derived))
    }

    /// Renders `text`, which drover will show or send, as [`Plan::render`] does, and keeps
    /// what of it derives from a secret through a transformation (a `replace`, a slice, a
    /// filter) to mask it wherever it appears: the parts of the result that change when the
    /// secrets do (`secrets::shadow`). A template whose variables hold no secret renders once.
    pub fn render_shown(
        &self,
        host: &PlannedHost,
        text: &Text,
        context: &Value,
    ) -> Result<String, String> {
        use crate::secrets::shadow;
        let real = self.render(text, context)?;
        let Text::Template { name, referenced } = text else {
            return Ok(real);
        };
        let mut secrets = host.secrets.clone();
        for value in self.lookups.values() {
            crate::secrets::add(&value, &mut secrets);
        }
        if secrets.is_empty() {
            return Ok(real);
        }
        let calls_lookup = self
            .env
            .get_template(name)
            .is_ok_and(|t| t.source().contains("lookup"));
        let uses_secret = referenced.iter().any(|var| {
            context
                .get_attr(var)
                .is_ok_and(|v| shadow::holds(&v, &secrets))
        });
        if !calls_lookup && !uses_secret {
            return Ok(real);
        }
        // Secrets used as they are are masked as they are: compare what is left.
        let masked = crate::secrets::mask(&real, &secrets);
        let mut parts = Vec::new();
        for n in 1..=2 {
            let shadowed = shadow::shadow(context, &secrets, n);
            match shadow::within(n, || self.render(text, &shadowed)) {
                Ok(other) => {
                    let theirs: Vec<String> =
                        secrets.iter().map(|s| shadow::perturb(s, n)).collect();
                    let other = crate::secrets::mask(&other, &theirs);
                    let changed = shadow::changed(&masked, &other);
                    parts.extend(changed.into_iter().map(|r| masked[r].to_string()));
                }
                // A shadow that does not render: all of it may come from a secret.
                Err(_) => parts.push(masked.clone()),
            }
        }
        let mut derived = host.derived.lock().unwrap_or_else(|e| e.into_inner());
        for part in &parts {
            for piece in part.split(crate::secrets::STARS) {
                crate::secrets::add(piece.trim(), &mut derived);
            }
        }
        drop(derived);
        Ok(real)
    }

    /// Renders `text` with `context`; errors name the undefined variables.
    pub fn render(&self, text: &Text, context: &Value) -> Result<String, String> {
        match text {
            Text::Plain(s) => Ok(s.clone()),
            Text::Template { name, referenced } => {
                let tmpl = self
                    .env
                    .get_template(name)
                    .map_err(|e| template::describe(&e))?;
                template::render_bounded(&tmpl, context)
                    .map_err(|e| e.explain(referenced.clone(), context))
            }
        }
    }

    /// The context a host's templates see: its vars, then registered results, then extra vars.
    pub fn context(&self, host: &PlannedHost, registered: &Value) -> Value {
        minijinja::value::merge_maps([
            host.vars.clone(),
            registered.clone(),
            self.extra_vars.clone(),
        ])
    }

    pub fn host_count(&self) -> usize {
        let mut seen = HashSet::new();
        for p in &self.plays {
            seen.extend(p.hosts.iter().map(|h| h.name.clone()));
        }
        seen.len()
    }
}

fn plan_mqtt(
    task: &MqttTask,
    idempotent: bool,
    key: &dyn Fn(&str) -> String,
    add: &mut dyn FnMut(String, &str) -> Result<Text>,
) -> Result<PlannedMqtt> {
    let payload = match &task.payload {
        Payload::Text(t) => PlannedPayload::Text(add(key("payload"), &t.0)?),
        Payload::Json(value) => {
            let mut leaves = Vec::new();
            crate::playbook::mqtt::string_leaves(value, String::new(), &mut leaves);
            let mut compiled = Vec::new();
            for (i, (pointer, text)) in leaves.into_iter().enumerate() {
                if template::is_template(text) {
                    compiled.push((pointer, add(key(&format!("payload{i}")), text)?));
                }
            }
            PlannedPayload::Json(value.clone(), compiled)
        }
    };
    let reply = match &task.reply {
        Some(r) => Some(PlannedReply {
            topic: add(key("reply"), &r.topic.0)?,
            filter: reply_filter(&r.topic.0),
            correlation: r.correlation,
            field: r.field.clone(),
            status_field: r.status_field.clone(),
            timeout: r.timeout.map(|d| d.0),
        }),
        None => None,
    };
    Ok(PlannedMqtt {
        payload,
        qos: task.qos.0,
        retain: task.retain,
        reply,
        idempotent,
    })
}

fn compile(
    env: &mut Environment<'static>,
    name: String,
    text: &str,
    path: &std::path::Path,
) -> Result<Text> {
    if !template::is_template(text) {
        return Ok(Text::Plain(text.to_string()));
    }
    env.add_template_owned(name.clone(), text.to_string())
        .map_err(|e| Error::Invalid {
            what: path.display().to_string(),
            message: format!(
                "template `{text}` does not compile: {}",
                template::describe(&e)
            ),
        })?;
    let referenced = env
        .get_template(&name)
        .map(|t| t.undeclared_variables(false))
        .unwrap_or_default();
    Ok(Text::Template { name, referenced })
}
