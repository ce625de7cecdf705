//! One host's turn: connect through the connector stack, run its tasks in order on one
//! session, disconnect. Every step is an event; the outcome is the host's, never its batch's.

use std::collections::BTreeMap;
use std::time::Duration;

use minijinja::Value;
use tokio::time::Instant;

use super::audit::{self, PlannedLoop};
use super::connector::Connector;
use super::plan::{
    Plan, PlannedAction, PlannedHost, PlannedMqtt, PlannedPayload, PlannedPlay, PlannedTask,
};
use super::shutdown::Shutdown;
use crate::event::{Event, EventSink, HostState};
use crate::outcome::{
    ConfigLine, ErrorKind, HostOutcome, HostStatus, TaskError, TaskResult, TaskStatus,
};
use crate::policy::{Backoff, Next, Retrier, RetryPolicy, Step};
use crate::transport::{
    correlation_id, Action, ConfigRequest, MqttReply, MqttRequest, Output, Session,
};

/// Results a host registered, by name, carried from task to task and play to play.
pub type Registered = BTreeMap<String, Value>;

/// The longest wait between runs of a retried task.
const TASK_BACKOFF_CAP: Duration = Duration::from_secs(60);

pub struct HostRun<'a> {
    pub plan: &'a Plan,
    pub play: &'a PlannedPlay,
    pub batch: usize,
    pub host: &'a PlannedHost,
    pub connector: &'a Connector,
    pub events: &'a EventSink,
}

type HostResult = Result<(), (HostStatus, TaskError)>;

impl HostRun<'_> {
    /// Runs the host to its end, also when the host deadline passes or the run is cancelled.
    /// The host's breaker is taken for the whole turn and put back with what the turn taught.
    pub async fn run(&self, registered: &mut Registered, mut shutdown: Shutdown) -> HostOutcome {
        let start = Instant::now();
        let mut connect_ms = None;
        let mut attempts = Vec::new();
        let mut breaker = self.connector.take_breaker(&self.host.name);
        // The task in progress, so a host cut short mid-task still reports it.
        let running = std::sync::Mutex::new(None);
        let result = {
            let body = self.body(
                registered,
                &mut connect_ms,
                breaker.as_mut(),
                &mut attempts,
                &running,
            );
            let deadline = self.play.settings.host_timeout;
            tokio::select! {
                r = async {
                    match deadline {
                        Some(d) => tokio::time::timeout(d, body).await.map_err(|_| d),
                        None => Ok(body.await),
                    }
                } => r,
                _ = shutdown.cancelled() => Ok(Err((HostStatus::Cancelled, TaskError::new(
                    ErrorKind::Cancelled,
                    "cancelled by a second interrupt",
                )))),
            }
        };
        // The host deadline cut the host short. Still connecting, it is what failed that
        // counts: the connection, as when the connect timeout cuts it, whichever came first.
        let cut_connecting = result.is_err() && connect_ms.is_none();
        let result = result.unwrap_or_else(|d| {
            let d = humantime::format_duration(d);
            Err(match connect_ms {
                None => (
                    HostStatus::Unreachable,
                    TaskError::new(
                        ErrorKind::ConnectTimeout,
                        format!("no connection before the host timeout ({d}) ended the attempt"),
                    ),
                ),
                Some(_) => (
                    HostStatus::Failed,
                    TaskError::new(ErrorKind::HostTimeout, format!("host not done after {d}")),
                ),
            })
        });
        let (status, error) = match result {
            Ok(()) => (HostStatus::Ok, None),
            Err((status, error)) => (status, Some(error)),
        };
        // Cut short by the host deadline or a cancel while a task ran: the task was started,
        // and the report says so, with what ended it.
        let cut = running.into_inner().unwrap_or_else(|e| e.into_inner());
        if let (Some((mut task, no_log)), Some(e)) = (cut, &error) {
            task.status = TaskStatus::Failed;
            task.duration_ms = self.events.now_ms().saturating_sub(task.started_ms);
            task.error = Some(e.clone());
            if no_log {
                crate::secrets::hide(&mut task);
            }
            self.events.emit(Event::TaskFinished {
                play: self.play.index,
                host: self.host.name.clone(),
                result: task,
            });
        }
        if let Some(b) = breaker.as_mut() {
            // Connect failures were counted attempt by attempt; what failed after the
            // connection (a hung command, the host deadline), or the attempt the host
            // deadline cut, counts here.
            let after_connect = connect_ms.is_some() || cut_connecting;
            if after_connect && error.as_ref().is_some_and(|e| e.kind.feeds_breaker()) {
                b.on_failure(self.connector.now_ms());
            }
            self.connector.put_breaker(&self.host.name, b);
        }
        HostOutcome {
            status,
            error,
            connect_ms,
            duration_ms: start.elapsed().as_millis() as u64,
            attempts: attempts.len() as u32,
            connect_attempts: attempts,
            breaker: breaker.map(|b| b.state()),
        }
    }

    fn state(&self, state: HostState, task: Option<String>) {
        self.events.emit(Event::HostState {
            play: self.play.index,
            batch: self.batch,
            host: self.host.name.clone(),
            state,
            task,
        });
    }

    async fn body(
        &self,
        registered: &mut Registered,
        connect_ms: &mut Option<u64>,
        breaker: Option<&mut super::breaker::Breaker>,
        attempts: &mut Vec<crate::outcome::Attempt>,
        running: &std::sync::Mutex<Option<(TaskResult, bool)>>,
    ) -> HostResult {
        self.state(HostState::Connecting, None);
        let started = Instant::now();
        let mut session = self
            .connector
            .connect(self.host, breaker, self.events, self.play.index, attempts)
            .await
            .map_err(|f| (f.status, f.error))?;
        *connect_ms = Some(started.elapsed().as_millis() as u64);
        if let (Some(via), Some(last)) = (session.describe(), attempts.last_mut()) {
            last.via = Some(via);
        }
        self.state(HostState::Connected, None);
        let mut failure = None;
        for task in self.play.tasks.iter() {
            // Boxed: a task's future is most of a host's, and 1000 hosts in flight each
            // carrying it inline left the allocator with holes it could not reuse (bench/README).
            let mut started = self.blank(task);
            if task.audit.assert.is_none() {
                let context = self.context(registered, None);
                if let Ok(command) = self.plan.render_shown(self.host, task.text(), &context) {
                    started.command = self.mask(&command);
                }
            }
            *running.lock().unwrap_or_else(|e| e.into_inner()) = Some((started, task.no_log));
            let result = Box::pin(self.task(task, &mut session, registered)).await;
            *running.lock().unwrap_or_else(|e| e.into_inner()) = None;
            let failed = result.status == TaskStatus::Failed;
            if failed {
                failure = result.error.clone();
            }
            self.events.emit(Event::TaskFinished {
                play: self.play.index,
                host: self.host.name.clone(),
                result,
            });
            if failed {
                break;
            }
        }
        self.state(HostState::Disconnecting, None);
        session.close().await;
        match failure {
            None => Ok(()),
            Some(error) => Err((HostStatus::Failed, error)),
        }
    }

    /// A task, or with `loop:` the task once per item; a `run_once` task only on the play's
    /// first host.
    async fn task(
        &self,
        task: &PlannedTask,
        session: &mut Box<dyn Session>,
        registered: &mut Registered,
    ) -> TaskResult {
        let first = self.play.hosts.first().map(|h| &*h.name);
        if audit::not_my_turn(&task.audit, first, &self.host.name) {
            let mut result = self.blank(task);
            result.status = TaskStatus::Skipped;
            self.register(task, registered, &result);
            return result;
        }
        let Some(each) = &task.audit.each else {
            return self.item(task, session, registered, None).await;
        };
        let context = self.context(registered, None);
        let items = match audit::items(self.plan, each, &context) {
            Ok(items) => items,
            Err(e) => {
                return self.finish(task, registered, self.blank(task), Instant::now(), Some(e))
            }
        };
        let mut results = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            // As in Ansible, every item runs, also after one has failed.
            let mut r = Box::pin(self.item(task, session, registered, Some((each, item)))).await;
            r.index = i;
            r.name = self.mask(&audit::label(
                self.plan,
                each,
                item,
                &audit::item_context(each, &context, item),
            ));
            results.push(r);
        }
        let mut result = audit::fold(self.blank(task), results);
        self.register(task, registered, &result);
        if task.no_log {
            crate::secrets::hide(&mut result);
        }
        result
    }

    fn blank(&self, task: &PlannedTask) -> TaskResult {
        TaskResult {
            index: task.index,
            name: task.name.clone(),
            kind: task.kind().to_string(),
            command: String::new(),
            status: TaskStatus::Ok,
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
            started_ms: self.events.now_ms(),
            duration_ms: 0,
            error: None,
            attempts: 1,
            runs: Vec::new(),
            parsed: None,
            changed: None,
            items: Vec::new(),
            assertions: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// What a host's templates see, with a loop's item when there is one.
    fn context(
        &self,
        registered: &Registered,
        item: Option<(&PlannedLoop, &serde_json::Value)>,
    ) -> Value {
        let context = self
            .plan
            .context(self.host, &crate::template::to_value(registered));
        match item {
            Some((each, item)) => audit::item_context(each, &context, item),
            None => context,
        }
    }

    /// One run of a task (one item of a loop).
    async fn item(
        &self,
        task: &PlannedTask,
        session: &mut Box<dyn Session>,
        registered: &mut Registered,
        item: Option<(&PlannedLoop, &serde_json::Value)>,
    ) -> TaskResult {
        let started = Instant::now();
        let context = self.context(registered, item);
        let mut result = self.blank(task);
        if let Some((expr, when)) = &task.when {
            match self.plan.render(when, &context) {
                Ok(v) if v == "true" => {}
                Ok(_) => {
                    result.status = TaskStatus::Skipped;
                    self.register(task, registered, &result);
                    return result;
                }
                Err(e) => {
                    let message = format!("`when: {expr}`: {e}");
                    return self.finish(
                        task,
                        registered,
                        result,
                        started,
                        Some(render_error(message)),
                    );
                }
            }
        }
        if let Some(a) = &task.audit.assert {
            let error = audit::assert(self.plan, self.host, a, &mut result, &context);
            return self.finish(task, registered, result, started, error);
        }
        let mut config = ConfigRequest::default();
        let rendered = match &task.action {
            PlannedAction::Config(c) => c
                .lines
                .iter()
                .map(|l| self.plan.render_shown(self.host, l, &context))
                .collect::<Result<Vec<_>, _>>()
                .map(|lines| {
                    config.save = c.save;
                    config.lines = lines;
                    config.lines.join("\n")
                }),
            _ => self.plan.render_shown(self.host, task.text(), &context),
        };
        let command = match rendered {
            Ok(c) => c,
            Err(e) => return self.finish(task, registered, result, started, Some(render_error(e))),
        };
        result.command = self.mask(&command);
        let request = match &task.action {
            PlannedAction::Mqtt(_, m) => match self.mqtt_request(m, command.clone(), &context) {
                Ok(r) => Some(r),
                Err(e) => {
                    return self.finish(task, registered, result, started, Some(render_error(e)))
                }
            },
            _ => None,
        };
        if let Some(r) = &request {
            result.command = self.mask(&format!("publish {} {}", r.topic, r.payload));
        }
        self.state(HostState::Running, Some(task.name.clone()));
        let action = match (&request, &task.action) {
            (Some(r), _) => Action::Mqtt(r),
            (None, PlannedAction::Shell(_)) => Action::Shell(&command),
            (None, PlannedAction::Config(_)) => Action::Config(&config),
            (None, _) => Action::Command(&command),
        };
        let timeout = task.timeout.unwrap_or(self.play.settings.command_timeout);
        // Task runs go through the one retry loop: any failure but a template error is tried
        // again, up to `retries` more times, `delay` apart (full jitter, capped).
        let backoff = Backoff {
            base: task.delay,
            cap: TASK_BACKOFF_CAP.max(task.delay),
            retries: task.retries,
        };
        let mut policy =
            RetryPolicy::new(backoff, |e: &TaskError, _| e.kind != ErrorKind::RenderError);
        let mut retrier = Retrier::new(&mut policy, || self.events.now_ms());
        let retried = loop {
            let attempt = retrier.begin();
            // Privileged mode first; a session already there does nothing.
            let ran = match task.enable {
                true => match session.run(Action::Enable, timeout).await {
                    Ok(_) => session.run(action, timeout).await,
                    Err(e) => Err(e),
                },
                false => session.run(action, timeout).await,
            };
            let (output, mut error) = match ran {
                Ok(output) => {
                    let error = self.check(task, &output, &context);
                    (output, error)
                }
                Err(e) => (e.partial, Some(e.error)),
            };
            result.exit_code = output.exit_code;
            result.stdout = self.mask(&output.stdout);
            result.stderr = self.mask(&output.stderr);
            result.lines = output
                .lines
                .iter()
                .map(|l| ConfigLine {
                    line: self.mask(&l.line),
                    response: self.mask(&l.response),
                })
                .collect();
            result.attempts = attempt + 1;
            if error.is_none() {
                error = audit::parse(&task.audit, &mut result);
            }
            if error.is_none() && task.audit.reads_result() {
                // `failed_when` and `changed_when` read this run's result by its `register` name.
                self.register(task, registered, &result);
                error = audit::judge(
                    self.plan,
                    &task.audit,
                    &mut result,
                    &self.context(registered, item),
                );
            }
            if let (None, Some((expr, until))) = (&error, &task.until) {
                // `until` reads this run's result under the task's `register` name.
                self.register(task, registered, &result);
                let context = self.context(registered, item);
                error = match self.plan.render(until, &context) {
                    Ok(v) if v == "true" => None,
                    Ok(_) => Some(expectation(format!(
                        "`until: {expr}` still false after {} run(s)",
                        attempt + 1
                    ))),
                    Err(e) => Some(render_error(format!("`until: {expr}`: {e}"))),
                };
            }
            let step = Step::tried(error.map_or(Ok(()), Err));
            match retrier.end(step, |_, _| {}) {
                Next::Again(wait) => tokio::time::sleep(wait).await,
                Next::Done(retried) => break retried,
            }
        };
        if retried.attempts.len() > 1 {
            result.runs = retried.attempts;
        }
        let error = retried.result.err();
        self.finish(task, registered, result, started, error)
    }

    /// Renders an `mqtt` task: payload and reply topic see `correlation_id`, a fresh id.
    fn mqtt_request(
        &self,
        m: &PlannedMqtt,
        topic: String,
        context: &Value,
    ) -> Result<MqttRequest, String> {
        let correlation_id = correlation_id();
        let context = minijinja::value::merge_maps([
            context.clone(),
            minijinja::context! { correlation_id => correlation_id.clone() },
        ]);
        let payload = match &m.payload {
            PlannedPayload::Text(t) => self.plan.render_shown(self.host, t, &context)?,
            PlannedPayload::Json(value, leaves) => {
                let mut value = value.clone();
                for (pointer, text) in leaves {
                    let rendered = self.plan.render_shown(self.host, text, &context)?;
                    if let Some(slot) = value.pointer_mut(pointer) {
                        *slot = serde_json::Value::String(rendered);
                    }
                }
                value.to_string()
            }
        };
        let reply = match &m.reply {
            Some(r) => Some(MqttReply {
                topic: self.plan.render_shown(self.host, &r.topic, &context)?,
                filter: r.filter.clone(),
                correlation: r.correlation,
                correlation_id,
                field: r.field.clone(),
                status_field: r.status_field.clone(),
                timeout: r.timeout,
            }),
            None => None,
        };
        Ok(MqttRequest {
            topic,
            payload,
            qos: m.qos,
            retain: m.retain,
            reply,
            idempotent: m.idempotent,
        })
    }

    fn finish(
        &self,
        task: &PlannedTask,
        registered: &mut Registered,
        mut result: TaskResult,
        started: Instant,
        error: Option<TaskError>,
    ) -> TaskResult {
        result.duration_ms = started.elapsed().as_millis() as u64;
        if let Some(mut error) = error {
            error.message = self.mask(&error.message);
            result.status = if task.ignore_errors && !error.kind.lost_host() {
                TaskStatus::Ignored
            } else {
                TaskStatus::Failed
            };
            result.error = Some(error);
        }
        self.register(task, registered, &result);
        if task.no_log {
            crate::secrets::hide(&mut result);
        }
        result
    }

    /// Checks `expect`; without `exit_code`, anything but 0 fails.
    fn check(&self, task: &PlannedTask, output: &Output, context: &Value) -> Option<TaskError> {
        let code = output.exit_code.unwrap_or(-1);
        if task.audit.failed_when.is_some() {
            // `failed_when` replaces the exit-code rule.
        } else if task.exit_codes.is_empty() {
            if code != 0 {
                let tail = last_line(&output.stderr).or_else(|| last_line(&output.stdout));
                let message = match tail {
                    Some(line) => format!("exit code {code}: {line}"),
                    None => format!("exit code {code}"),
                };
                return Some(TaskError::new(ErrorKind::NonzeroExit, message));
            }
        } else if !task.exit_codes.contains(&code) {
            let message = format!("exit code {code}, expected {:?}", task.exit_codes);
            return Some(TaskError::new(ErrorKind::ExpectationFailed, message));
        }
        for text in &task.stdout_contains {
            match self.plan.render(text, context) {
                Ok(needle) if output.stdout.contains(&needle) => {}
                Ok(needle) => {
                    return Some(expectation(format!("stdout does not contain `{needle}`")))
                }
                Err(e) => return Some(render_error(e)),
            }
        }
        for text in &task.stdout_not_contains {
            match self.plan.render(text, context) {
                Ok(needle) if !output.stdout.contains(&needle) => {}
                Ok(needle) => return Some(expectation(format!("stdout contains `{needle}`"))),
                Err(e) => return Some(render_error(e)),
            }
        }
        for re in &task.stdout_matches {
            if !re.is_match(&output.stdout) {
                return Some(expectation(format!(
                    "stdout does not match /{}/",
                    re.as_str()
                )));
            }
        }
        None
    }

    fn register(&self, task: &PlannedTask, registered: &mut Registered, result: &TaskResult) {
        let Some(name) = &task.register else { return };
        registered.insert(name.clone(), registration(result));
    }

    fn mask(&self, text: &str) -> String {
        self.plan.mask(self.host, text)
    }
}

/// A task's result as `register` keeps it: Ansible's names (`rc`, `stdout`, `stdout_lines`,
/// `failed`, `changed`, `results` for a loop) and drover's (`parsed`, `json`, `status`).
fn registration(result: &TaskResult) -> Value {
    minijinja::context! {
            rc => result.exit_code,
            stdout => result.stdout.clone(),
            stdout_lines => result.stdout.lines().map(str::to_string).collect::<Vec<_>>(),
            stderr => result.stderr.clone(),
            json => crate::template::to_value((result.kind == "mqtt")
                .then(|| serde_json::from_str::<serde_json::Value>(&result.stdout).ok())
                .flatten()),
            failed => matches!(result.status, TaskStatus::Failed | TaskStatus::Ignored),
            skipped => result.status == TaskStatus::Skipped,
            status => serde_json::to_value(result.status).ok().and_then(|v| v.as_str().map(str::to_string)),
            parsed => result.parsed.as_ref().map_or(Value::from(()), crate::parse::Parsed::to_value),
            changed => result.changed.unwrap_or(false),
            label => result.name.clone(),
            results => result.items.iter().map(registration).collect::<Vec<_>>(),
            assertions => crate::template::to_value(&result.assertions),
            lines => crate::template::to_value(&result.lines),
    }
}

fn render_error(message: String) -> TaskError {
    TaskError::new(ErrorKind::RenderError, message)
}

fn expectation(message: String) -> TaskError {
    TaskError::new(ErrorKind::ExpectationFailed, message)
}

fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|l| !l.is_empty())
}
