//! The command line (-d, -t, -i, -p, -h) and the stop signal (Ctrl-C, SIGTERM, -d).
use crate::libbpf::Error;
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_uint};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
    fn if_nametoindex(name: *const c_char) -> c_uint;
}

const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
const USAGE: [&str; 5] = [
    "[-d SECONDS] [-t INTERVAL] [-i IFACE] [-p NAME=VALUE]...",
    "  -d SECONDS     stop after that long (default: at Ctrl-C)",
    "  -t INTERVAL    print the output maps every INTERVAL seconds (default: 1)",
    "  -i IFACE       the interface XDP and TC programs attach to",
    "  -p NAME=VALUE  set the parameter NAME (a `const volatile` global) before loading",
];

static STOPPING: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: c_int) {
    STOPPING.store(true, Ordering::Relaxed);
}

pub struct Options {
    pub end: Option<Instant>,
    pub interval: Duration,
    pub ifindex: Option<u32>,
    pub params: Vec<(String, String)>,
}

impl Options {
    /// Parses the command line: -h prints the usage and exits 0, a bad option exits 2.
    pub fn parse() -> Options {
        let mut args = std::env::args();
        let program = args.next().unwrap_or_default();
        match Options::from_args(args.collect()) {
            Ok(Some(options)) => {
                let handler = on_signal as extern "C" fn(c_int) as usize;
                unsafe {
                    signal(SIGINT, handler);
                    signal(SIGTERM, handler);
                }
                options
            }
            Ok(None) => {
                println!("usage: {program} {}", USAGE.join("\n"));
                std::process::exit(0)
            }
            Err(Error(message)) => {
                eprintln!(
                    "{program}: {message}\nusage: {program} {}",
                    USAGE.join("\n")
                );
                std::process::exit(2)
            }
        }
    }

    fn from_args(args: Vec<String>) -> Result<Option<Options>, Error> {
        let mut options = Options {
            end: None,
            interval: Duration::from_secs(1),
            ifindex: None,
            params: Vec::new(),
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| Error(format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "-d" => options.end = Some(Instant::now() + seconds(&flag, &value()?)?),
                "-t" => {
                    options.interval = seconds(&flag, &value()?)?.max(Duration::from_millis(10))
                }
                "-i" => options.ifindex = Some(interface(&value()?)?),
                "-p" => {
                    let setting = value()?;
                    let (name, set) = setting
                        .split_once('=')
                        .ok_or_else(|| Error(format!("-p {setting}: write NAME=VALUE")))?;
                    options.params.push((name.to_string(), set.to_string()));
                }
                _ => return Err(Error(format!("unknown option {flag}"))),
            }
        }
        Ok(Some(options))
    }

    /// Whether Ctrl-C or SIGTERM came, or -d SECONDS have passed.
    pub fn stopping(&self) -> bool {
        STOPPING.load(Ordering::Relaxed) || self.end.map_or(false, |end| Instant::now() >= end)
    }

    /// Ends the wait loop early (stdout closed, say).
    pub fn stop(&self) {
        STOPPING.store(true, Ordering::Relaxed);
    }
}

fn seconds(flag: &str, value: &str) -> Result<Duration, Error> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(Error(format!("{flag} {value}: give a number of seconds"))),
    }
}

/// The index of interface `name`.
fn interface(name: &str) -> Result<u32, Error> {
    let index = CString::new(name).map_or(0, |c| unsafe { if_nametoindex(c.as_ptr()) });
    if index == 0 {
        return Err(Error(format!(
            "-i {name}: no such interface; give an existing one (ip link)"
        )));
    }
    Ok(index)
}
