//! {{name}}: the user-space side, in Rust over libbpf's C API. Opens the embedded object,
//! sets its parameters (-p NAME=VALUE), loads it, attaches every program (XDP and TC ones to
//! -i IFACE), and prints as JSON lines each event, decoded from the object's BTF, and every
//! -t seconds the output maps ebpf-hub.yaml lists, until Ctrl-C, SIGTERM or -d SECONDS;
//! then it detaches everything. This file is yours to change; the modules beside it are
//! what any loader needs.
mod btf;
mod decode;
mod libbpf;
mod manifest;
mod options;
mod params;

use btf::{Btf, Layout};
use libbpf::{Error, Map, Object, RingBuffer};
use options::Options;
use std::io::Write;
use std::time::{Duration, Instant};

/// The object `ebpf-hub build` makes, and the manifest saying what it outputs.
static OBJECT: &[u8] = include_bytes!("../../build/{{name}}.bpf.o");
static MANIFEST: &str = include_str!("../../ebpf-hub.yaml");

const NO_EVENT_TYPE: &str = concat!(
    "ebpf-hub.yaml sets output.events, but the object names no event type: ",
    "add EBPF_HUB_EVENT(struct event) to the program"
);

/// One line of JSON on stdout; a closed stdout stops the loader.
fn emit(options: &Options, line: &str) {
    if writeln!(std::io::stdout(), "{line}").is_err() {
        options.stop();
    }
}

/// An output map with the layouts of its keys and values.
struct Shown<'a> {
    name: String,
    map: Map<'a>,
    key: Layout,
    value: Layout,
}

impl Shown<'_> {
    /// `{"map": NAME, "key": K, "value": V}` per entry; V is a list for a per-CPU map.
    fn print(&self, options: &Options) -> Result<(), Error> {
        for (key, values) in self.map.entries()? {
            let decoded = values
                .iter()
                .map(|v| decode::to_json(&self.value, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| Error(format!("map {}: {err}", self.name)))?;
            let value = if decoded.len() == 1 {
                decoded[0].clone()
            } else {
                format!("[{}]", decoded.join(", "))
            };
            let key = decode::to_json(&self.key, &key)
                .map_err(|err| Error(format!("map {}: {err}", self.name)))?;
            let mut name = String::new();
            decode::write_text(&mut name, &self.name);
            emit(
                options,
                &format!("{{\"map\": {name}, \"key\": {key}, \"value\": {value}}}"),
            );
        }
        Ok(())
    }
}

fn run(options: &Options) -> Result<(), Error> {
    let output = manifest::output(MANIFEST)?;
    let obj = Object::open(OBJECT)?;
    let btf = Btf::of(&obj)?;
    for (name, value) in &options.params {
        params::set(&obj, &btf, name, value)?;
    }
    obj.load()?;

    let event = match (output.events, btf.event_type()?) {
        (false, _) => None,
        (true, Some(type_id)) => Some(btf.layout(type_id)?),
        (true, None) => return Err(Error(NO_EVENT_TYPE.into())),
    };
    let mut shown = Vec::new();
    for name in &output.maps {
        let map = obj.map(name).ok_or_else(|| {
            Error(format!(
                "ebpf-hub.yaml: output.maps: the object has no map {name:?}"
            ))
        })?;
        let (key, value) = (
            btf.layout(map.key_type_id())?,
            btf.layout(map.value_type_id())?,
        );
        shown.push(Shown {
            name: name.clone(),
            map,
            key,
            value,
        });
    }

    let mut attached = Vec::new(); // dropped, so detached, before the object is closed
    for program in obj.programs() {
        let ifindex = match (options.ifindex, program.needs_iface()) {
            (Some(index), true) => index,
            (None, true) => {
                return Err(Error(format!(
                    "{} attaches to an interface: give it with -i IFACE",
                    program.name()
                )))
            }
            (_, false) => 0,
        };
        attached.push(program.attach(ifindex)?);
    }

    let mut events = match &event {
        Some(layout) => {
            let map = obj
                .map("events")
                .ok_or_else(|| Error("the object has no ring buffer named events".into()))?;
            Some(RingBuffer::new(
                &map,
                move |record| match decode::to_json(layout, record) {
                    Ok(line) => emit(options, &line),
                    Err(err) => eprintln!("skipping an event: {err}"),
                },
            )?)
        }
        None => None,
    };
    let mut next = Instant::now() + options.interval;
    while !options.stopping() {
        match events.as_mut() {
            Some(ring) => ring.poll(100)?,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
        if Instant::now() >= next {
            shown.iter().try_for_each(|map| map.print(options))?;
            next += options.interval;
        }
    }
    shown.iter().try_for_each(|map| map.print(options))
}

fn main() {
    let options = Options::parse();
    if let Err(err) = run(&options) {
        eprintln!("{{name}}: {err}");
        std::process::exit(1);
    }
}
