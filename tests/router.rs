//! The CLI session driver against simulated routers over real SSH (russh on both sides):
//! a PTY shell per device, prompts, enable, config mode, paging, failure patterns, a hung
//! command, and each shipped platform's shape.

use std::sync::Arc;
use std::time::Duration;

use drover::outcome::ErrorKind;
use drover::platform::{CliSession, Mode, Platform, Platforms, SessionLimits};
use russh::client;
use russh::ChannelStream;

use crate::support::router::{Device, DeviceConfig};

const T: Duration = Duration::from_secs(20);

struct Client;

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Login {
    Password,
    KeyboardInteractive,
}

/// An SSH connection's shell channel as a byte stream, and the connection it lives on.
struct Shell {
    _conn: client::Handle<Client>,
    stream: ChannelStream<client::Msg>,
}

async fn shell(dev: &Device, login: Login) -> Shell {
    let config = Arc::new(client::Config {
        nodelay: true,
        ..client::Config::default()
    });
    let mut conn = client::connect(config, dev.addr, Client)
        .await
        .expect("connect to the simulated device");
    let (user, password) = (dev.config.user.clone(), dev.config.password.clone());
    let ok = match login {
        Login::Password => conn
            .authenticate_password(user, password)
            .await
            .expect("password auth")
            .success(),
        Login::KeyboardInteractive => {
            let mut reply = conn
                .authenticate_keyboard_interactive_start(user, None)
                .await
                .expect("keyboard-interactive auth");
            loop {
                match reply {
                    client::KeyboardInteractiveAuthResponse::Success => break true,
                    client::KeyboardInteractiveAuthResponse::Failure { .. } => break false,
                    client::KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                        let answers = prompts.iter().map(|_| password.clone()).collect();
                        reply = conn
                            .authenticate_keyboard_interactive_respond(answers)
                            .await
                            .expect("keyboard-interactive answer");
                    }
                }
            }
        }
    };
    assert!(ok, "login refused");
    let channel = conn.channel_open_session().await.expect("session channel");
    channel
        .request_pty(true, "vt100", 511, 24, 0, 0, &[])
        .await
        .expect("pty");
    channel.request_shell(true).await.expect("shell");
    Shell {
        _conn: conn,
        stream: channel.into_stream(),
    }
}

fn platform(name: &str) -> Arc<Platform> {
    Platforms::shipped().get(name).expect("shipped platform")
}

async fn open(
    dev: &Device,
    platform: Arc<Platform>,
) -> (
    CliSession<ChannelStream<client::Msg>>,
    client::Handle<Client>,
) {
    let Shell { _conn, stream } = shell(dev, Login::Password).await;
    let session = CliSession::open(stream, platform, SessionLimits::default(), T)
        .await
        .expect("the CLI session opens");
    (session, _conn)
}

async fn ios(hostname: &str) -> Device {
    Device::start(DeviceConfig::new("cisco_ios", hostname)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_show_commands_on_50_devices_with_password_auth() {
    let mut devices = Vec::new();
    for i in 0..50 {
        let mut cfg = DeviceConfig::new("cisco_ios", &format!("r{i:02}"));
        if i % 5 == 0 {
            cfg = cfg.slow();
        }
        devices.push(Arc::new(Device::start(cfg).await));
    }
    let mut runs = Vec::new();
    for dev in &devices {
        let dev = dev.clone();
        runs.push(tokio::spawn(async move {
            let (mut s, _conn) = open(&dev, platform("cisco_ios")).await;
            let version = s.run("show version", T).await.expect("show version");
            let running = s.run("show running-config", T).await.expect("show run");
            (dev.config.hostname.clone(), version, running)
        }));
    }
    for (run, dev) in runs.into_iter().zip(&devices) {
        let (host, version, running) = run.await.unwrap();
        assert_eq!(
            version,
            format!("cisco_ios simulated software, Version 1.0\n{host} uptime is 1 day")
        );
        assert!(running.contains(&format!("hostname {host}")), "{running}");
        let seen = dev.seen();
        assert_eq!(seen.logins, ["password"]);
        assert_eq!(
            seen.lines,
            [
                "terminal length 0",
                "terminal width 511",
                "show version",
                "show running-config"
            ]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_enable_then_show_running_config_over_keyboard_interactive() {
    let dev = ios("core1").await;
    let Shell { _conn, stream } = shell(&dev, Login::KeyboardInteractive).await;
    let mut s = CliSession::open(stream, platform("cisco_ios"), SessionLimits::default(), T)
        .await
        .unwrap();
    assert_eq!((s.mode(), s.prompt()), (Mode::User, "core1>"));
    s.enable(Some("en-secret"), T).await.expect("enable");
    assert_eq!((s.mode(), s.prompt()), (Mode::Privileged, "core1#"));
    let running = s.run("show running-config", T).await.unwrap();
    let lines: Vec<&str> = running.lines().collect();
    assert_eq!(lines.first(), Some(&"Building configuration..."));
    assert_eq!(lines.last(), Some(&"end"));
    assert_eq!(lines.len(), 5 + 48 + 1);
    assert_eq!(dev.seen().logins, ["keyboard-interactive"]);
    assert!(!dev.seen().lines.iter().any(|l| l.contains("en-secret")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_config_lines_then_show_up_in_running_config_and_are_saved() {
    let dev = ios("edge1").await;
    let (mut s, _conn) = open(&dev, platform("cisco_ios")).await;
    s.enable(Some("en-secret"), T).await.unwrap();
    let lines = vec![
        "interface Loopback0".to_string(),
        " description drover was here".to_string(),
        "ntp server 192.0.2.1".to_string(),
    ];
    let reply = s.configure(&lines, true, T).await.expect("config applies");
    assert_eq!(reply.lines.len(), 3);
    assert!(reply.lines.iter().all(|l| l.response.is_empty()));
    assert_eq!(
        reply.save.as_ref().map(|s| s.response.as_str()),
        Some("Building configuration...\n[OK]")
    );
    assert_eq!(s.mode(), Mode::Privileged);
    let running = s.run("show running-config", T).await.unwrap();
    assert!(
        running.contains(
            "interface Loopback0\ndescription drover was here\nntp server 192.0.2.1\nend"
        ),
        "{running}"
    );
    assert_eq!(
        dev.seen().saved,
        [
            "interface Loopback0",
            "description drover was here",
            "ntp server 192.0.2.1"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_config_stops_at_the_first_refused_line_and_leaves_config_mode() {
    let dev = ios("edge2").await;
    let (mut s, _conn) = open(&dev, platform("cisco_ios")).await;
    s.enable(Some("en-secret"), T).await.unwrap();
    let lines = [
        "ntp server 192.0.2.1",
        "frobnicate all",
        "ntp server 192.0.2.2",
    ]
    .map(String::from);
    let failure = s.configure(&lines, true, T).await.unwrap_err();
    assert_eq!(failure.error.kind, ErrorKind::NonzeroExit);
    assert_eq!(
        failure.error.message,
        "config line 2 `frobnicate all`: the device answered `% Invalid input detected at '^' marker.`"
    );
    assert_eq!(failure.reply.lines.len(), 2);
    assert!(failure.reply.save.is_none());
    assert_eq!(s.mode(), Mode::Privileged);
    let seen = dev.seen();
    assert_eq!(seen.running, ["ntp server 192.0.2.1"]);
    assert!(seen.saved.is_empty());
    assert_eq!(seen.lines.last().map(String::as_str), Some("end"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_config_needs_enable_first() {
    let dev = ios("edge3").await;
    let (mut s, _conn) = open(&dev, platform("cisco_ios")).await;
    let failure = s
        .configure(&["ntp server 192.0.2.1".into()], false, T)
        .await
        .unwrap_err();
    assert_eq!(failure.error.kind, ErrorKind::Protocol);
    assert!(
        failure.error.message.contains("set `enable: true`"),
        "{}",
        failure.error.message
    );
    assert!(!dev.seen().lines.contains(&"configure terminal".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_pager_is_answered_when_paging_stays_on() {
    let dev = Device::start(DeviceConfig::new("cisco_ios", "pager1").slow()).await;
    let mut no_paging_off = (*platform("cisco_ios")).clone();
    no_paging_off.on_open.clear();
    let (mut s, _conn) = open(&dev, Arc::new(no_paging_off)).await;
    let running = s.run("show running-config", T).await.unwrap();
    let lines: Vec<&str> = running.lines().collect();
    assert_eq!(lines.len(), 5 + 48 + 1, "{running}");
    assert!(!running.contains("More"), "{running}");
    assert!(lines.iter().all(|l| !l.contains('\u{8}')));
    // Each page boundary (the pager answered and erased) leaves the next line intact.
    assert_eq!(lines[19], "interface Ethernet0/7", "{running}");
    assert_eq!(lines[20], " shutdown", "{running}");
    assert_eq!(lines[40], " shutdown", "{running}");
    assert_eq!(lines.last(), Some(&"end"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_failure_pattern_fails_with_the_devices_line() {
    let dev = ios("r-fail").await;
    let (mut s, _conn) = open(&dev, platform("cisco_ios")).await;
    let err = s.run("show bogus", T).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NonzeroExit);
    assert_eq!(
        err.message,
        "the device answered `% Invalid input detected at '^' marker.`"
    );
    let run = err.into_run_error();
    assert_eq!(run.error.kind, ErrorKind::NonzeroExit);
    assert_eq!(run.partial.exit_code, None);
    assert!(run
        .partial
        .stdout
        .ends_with("% Invalid input detected at '^' marker."));
    // The session goes on.
    assert!(s
        .run("show version", T)
        .await
        .unwrap()
        .contains("r-fail uptime"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_hung_command_is_interrupted_and_the_next_command_works() {
    let dev = ios("r-hang").await;
    let (mut s, _conn) = open(&dev, platform("cisco_ios")).await;
    let err = s.run("hang", Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::CommandTimeout);
    assert!(
        err.message
            .contains("interrupted with Ctrl-C, the session is back at `r-hang>`"),
        "{err}"
    );
    assert_eq!(err.output, "Type escape sequence to abort.\n^C");
    assert_eq!(dev.seen().interrupts, 1);
    let version = s.run("show version", T).await.unwrap();
    assert!(version.contains("r-hang uptime is 1 day"), "{version}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_wrong_enable_secret_is_a_clear_failure() {
    let dev = ios("r-sec").await;
    let (mut s, _conn) = open(&dev, platform("cisco_ios")).await;
    let err = s.enable(Some("not-it"), T).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AuthFailed);
    assert_eq!(
        err.message,
        "the device did not accept the enable secret: the device answered `% Bad secrets`"
    );
    assert_eq!(s.mode(), Mode::User);
    let err = s.enable(None, T).await.unwrap_err();
    assert!(
        err.message.contains("none is set (`enable_secret`)"),
        "{err}"
    );
    // Still usable, and the right secret works.
    s.enable(Some("en-secret"), T).await.unwrap();
    assert_eq!(s.mode(), Mode::Privileged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_refuses_exec_channels() {
    let dev = ios("r-exec").await;
    let config = Arc::new(client::Config::default());
    let mut conn = client::connect(config, dev.addr, Client).await.unwrap();
    assert!(!conn
        .authenticate_password("admin", "wrong")
        .await
        .unwrap()
        .success());
    assert!(conn
        .authenticate_password("admin", "lab-pass")
        .await
        .unwrap()
        .success());
    let mut channel = conn.channel_open_session().await.unwrap();
    channel.exec(true, "show version").await.unwrap();
    let refused = loop {
        match channel.wait().await {
            Some(russh::ChannelMsg::Failure) => break true,
            Some(russh::ChannelMsg::Success) | None => break false,
            Some(_) => continue,
        }
    };
    assert!(refused, "the exec request was not refused");
    let seen = dev.seen();
    assert_eq!((seen.exec_refused, seen.failed_logins), (1, 1));
}

/// What one shipped platform is expected to do against its simulated shape.
struct Case {
    platform: &'static str,
    enable: bool,
    config: &'static [&'static str],
    save: bool,
    bad: &'static str,
    failure: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_each_shipped_profile_against_its_shape() {
    let cases = [
        Case {
            platform: "cisco_ios",
            enable: true,
            config: &["ntp server 192.0.2.1"],
            save: true,
            bad: "show bogus",
            failure: "% Invalid input detected at '^' marker.",
        },
        Case {
            platform: "cisco_iosxe",
            enable: true,
            config: &["ntp server 192.0.2.1"],
            save: true,
            bad: "show bogus",
            failure: "% Invalid input detected at '^' marker.",
        },
        Case {
            platform: "cisco_nxos",
            enable: false,
            config: &["ntp server 192.0.2.1"],
            save: true,
            bad: "show bogus",
            failure: "% Invalid command at '^' marker.",
        },
        Case {
            platform: "cisco_iosxr",
            enable: false,
            config: &["ntp server 192.0.2.1"],
            save: false,
            bad: "show bogus",
            failure: "% Invalid input detected at '^' marker.",
        },
        Case {
            platform: "arista_eos",
            enable: true,
            config: &["ntp server 192.0.2.1"],
            save: true,
            bad: "show bogus",
            failure: "% Invalid input",
        },
        Case {
            platform: "juniper_junos",
            enable: false,
            config: &["set system ntp server 192.0.2.1"],
            save: false,
            bad: "show bogus",
            failure: "unknown command.",
        },
        Case {
            platform: "mikrotik_routeros",
            enable: false,
            config: &["/system ntp client set enabled=yes"],
            save: false,
            bad: "frobnicate",
            failure: "bad command name frobnicate (line 1 column 1)",
        },
        Case {
            platform: "huawei_vrp",
            enable: false,
            config: &["ntp-service unicast-server 192.0.2.1"],
            save: true,
            bad: "display bogus",
            failure: "Error: Unrecognized command found at '^' position.",
        },
        Case {
            platform: "dell_os6",
            enable: true,
            config: &["ntp server 192.0.2.1"],
            save: true,
            bad: "show bogus",
            failure: "% Invalid input detected at '^' marker.",
        },
    ];
    for case in cases {
        let name = case.platform;
        let dev = Device::start(DeviceConfig::new(name, "sim1").slow()).await;
        let shape = dev.config.shape.clone();
        let (mut s, _conn) = open(&dev, platform(name)).await;
        if case.enable {
            assert_eq!(s.mode(), Mode::User, "{name}");
            s.enable(Some("en-secret"), T)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let version = s
            .run(shape.version_cmd, T)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            version,
            format!("{name} simulated software, Version 1.0\nsim1 uptime is 1 day"),
            "{name}"
        );
        let lines: Vec<String> = case.config.iter().map(|l| l.to_string()).collect();
        let reply = s
            .configure(&lines, case.save, T)
            .await
            .unwrap_or_else(|f| panic!("{name}: {}", f.error));
        assert_eq!(reply.save.is_some(), case.save, "{name}");
        assert_ne!(s.mode(), Mode::Config, "{name} left config mode");
        let running = s
            .run(shape.running_cmd, T)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(running.contains(case.config[0]), "{name}: {running}");
        assert!(running.lines().count() > dev.config.page, "{name}");
        let seen = dev.seen();
        assert_eq!(seen.running, case.config, "{name}");
        if case.save {
            assert_eq!(seen.saved, case.config, "{name}");
        }
        let err = s.run(case.bad, T).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NonzeroExit, "{name}");
        assert_eq!(
            err.message,
            format!("the device answered `{}`", case.failure),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_generic_platform_uses_the_hosts_prompt() {
    let dev = Device::start(DeviceConfig::new("generic", "box7").slow()).await;
    let generic = platform("generic").with_prompt(r"^box\d+\$$").unwrap();
    let (mut s, _conn) = open(&dev, Arc::new(generic)).await;
    let version = s.run("show version", T).await.unwrap();
    assert_eq!(
        version,
        "generic simulated software, Version 1.0\nbox7 uptime is 1 day"
    );
    // Paging stays on (no on-open command), and the generic pager pattern answers it.
    let running = s.run("show running-config", T).await.unwrap();
    assert_eq!(running.lines().count(), 5 + 48 + 1, "{running}");
}

#[test]
fn router_platforms_file_with_a_bad_regex_is_an_input_error_at_its_place() {
    use crate::support::{Test, LAB};
    let playbook = "- hosts: all\n  tasks:\n    - command: 'true'\n";
    Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", playbook)
        .file(
            "plat.yml",
            "platforms:\n  lab_ios:\n    extends: cisco_ios\n    prompts: { user: '^lab(>$' }\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml", "--platforms", "plat.yml"])
        .run()
        .code(1)
        .stderr_has("not a valid regular expression")
        .stderr_has("plat.yml:4:23");
    Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", playbook)
        .file(
            "plat.yml",
            "platforms:\n  lab_ios: { extends: cisco_iso }\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml", "--platforms", "plat.yml"])
        .run()
        .code(1)
        .stderr_has("`extends: cisco_iso` names no platform (did you mean `cisco_ios`?)")
        .stderr_has("plat.yml:2:3");
    Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", playbook)
        .file(
            "plat.yml",
            "platforms:\n  lab_ios: { extends: cisco_ios }\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml", "--platforms", "plat.yml"])
        .run()
        .code(0);
}
