//! A throwaway PostgreSQL for one test: initdb in a temp dir, started on a
//! unix socket, stopped and removed on drop. A PostgreSQL that cannot start
//! fails the test (a test that skips proves nothing).

use std::path::Path;
use std::process::Command;

/// A running PostgreSQL, stopped and removed when dropped.
pub struct Postgres {
    dir: tempfile::TempDir,
    as_root: bool,
}

const PORT: u16 = 5432;

/// Runs a PostgreSQL tool, as the `postgres` user when we are root
/// (PostgreSQL refuses to run as root), and panics with its output if it fails.
fn run(as_root: bool, program: &str, args: &[&str]) {
    let output = if as_root {
        Command::new("runuser")
            .args(["-u", "postgres", "--", program])
            .args(args)
            .output()
    } else {
        Command::new(program).args(args).output()
    };
    match output {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "PostgreSQL could not start: `{program}` failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "PostgreSQL could not start: cannot run `{program}` (PostgreSQL 15 on PATH?): {e}"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    /// Starts a fresh server; panics with the reason if it cannot.
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().expect("a temp dir for PostgreSQL");
        let as_root = is_root();
        if as_root {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status();
            assert!(
                matches!(status, Ok(s) if s.success()),
                "PostgreSQL could not start: cannot give {} to the postgres user",
                dir.path().display()
            );
        }
        let data = dir.path().join("data");
        let data = data.to_str().expect("a UTF-8 temp path");
        let socket = dir.path().to_str().expect("a UTF-8 temp path");
        run(
            as_root,
            "initdb",
            &["-D", data, "-A", "trust", "-N", "-U", "postgres"],
        );
        let options = format!("-k {socket} -p {PORT} -c listen_addresses='' -c fsync=off");
        run(
            as_root,
            "pg_ctl",
            &[
                "-D",
                data,
                "-o",
                &options,
                "-w",
                "-l",
                &format!("{socket}/log"),
                "start",
            ],
        );
        Postgres { dir, as_root }
    }

    /// The URL to connect over the server's unix socket.
    pub fn url(&self) -> String {
        format!(
            "postgres:///postgres?host={}&port={PORT}&user=postgres",
            self.dir.path().display()
        )
    }

    fn data(&self) -> String {
        Path::new(self.dir.path())
            .join("data")
            .display()
            .to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let args = ["-D", data.as_str(), "stop", "-m", "immediate"];
        let _ = if self.as_root {
            Command::new("runuser")
                .args(["-u", "postgres", "--", "pg_ctl"])
                .args(args)
                .output()
        } else {
            Command::new("pg_ctl").args(args).output()
        };
        // The temp dir removes itself.
    }
}
