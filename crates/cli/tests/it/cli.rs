//! Help, version and usage errors.

use super::{run_in, scratch};

#[test]
fn help_and_version_exit_zero() {
    let dir = scratch("help");
    let help = run_in(&dir, &["--help"]);
    assert_eq!(help.code, Some(0));
    assert!(help.stdout.contains("Usage: baton <COMMAND>"), "{help:?}");
    for command in ["validate", "graph", "run"] {
        let help = run_in(&dir, &[command, "--help"]);
        assert_eq!(help.code, Some(0), "{help:?}");
        assert!(
            help.stdout
                .contains(&format!("Usage: baton {command} FILE")),
            "{help:?}"
        );
    }
    // `help` takes help itself, and any command's name.
    for args in [
        &["help", "--help"][..],
        &["help", "-h"],
        &["help"],
        &["help", "run"],
        &["help", "format"],
    ] {
        let help = run_in(&dir, args);
        assert_eq!(help.code, Some(0), "{args:?}: {help:?}");
        assert!(help.stdout.starts_with("baton"), "{args:?}: {help:?}");
    }
    let version = run_in(&dir, &["--version"]);
    assert_eq!(version.code, Some(0));
    assert_eq!(
        version.stdout,
        format!("baton {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_two_with_a_message_and_a_hint() {
    let dir = scratch("usage");
    for (args, message, hint) in [
        (&[][..], "baton: missing a command", "try `baton --help`"),
        (
            &["deploy"][..],
            "baton: unknown command `deploy`",
            "try `baton --help`",
        ),
        (
            &["run"][..],
            "baton: missing the workflow FILE to run",
            "try `baton run --help`",
        ),
        (
            &["run", "x.toml", "--workers", "none"][..],
            "invalid --workers none",
            "try `baton run --help`",
        ),
        (
            &["graph", "x.toml", "--format", "svg"][..],
            "invalid --format svg",
            "try `baton graph --help`",
        ),
    ] {
        let out = run_in(&dir, args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {out:?}");
        assert!(
            lines[0].starts_with("baton: ") && lines[0].contains(message),
            "{out:?}"
        );
        assert_eq!(lines[1], hint, "{args:?}");
        assert_eq!(out.stdout, "");
    }
    let missing = run_in(&dir, &["validate", "nowhere.toml"]);
    assert_eq!(missing.code, Some(2));
    assert!(
        missing
            .stderr
            .contains("cannot read workflow file nowhere.toml"),
        "{missing:?}"
    );
}

#[test]
fn paths_and_arguments_in_messages_are_escaped() {
    let dir = scratch("escaped-messages");
    for args in [
        &["validate", "no\u{1b}[2Jfile.toml"][..],
        &["launch\u{7}"][..],
        &["run", "no\nfile.toml"][..],
    ] {
        let out = run_in(&dir, args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert!(
            !out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{7}'),
            "{args:?}: {out:?}"
        );
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert!(lines[0].starts_with("baton: "), "{args:?}: {out:?}");
        assert!(lines.len() <= 2, "one message, and a hint: {out:?}");
    }
}
