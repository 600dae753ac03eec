//! What ebpf-hub.yaml says the object produces (`output:`): events through the ring buffer
//! `events`, and the maps to print on an interval.
use crate::libbpf::Error;
use yaml_rust::{Yaml, YamlLoader};

pub struct Output {
    pub events: bool,
    pub maps: Vec<String>,
}

pub fn output(manifest: &str) -> Result<Output, Error> {
    let bad = |what: String| {
        Error(format!(
            "ebpf-hub.yaml: {what}; fix it and run make again (the loader embeds it)"
        ))
    };
    let documents = YamlLoader::load_from_str(manifest).map_err(|err| bad(err.to_string()))?;
    let output = documents
        .first()
        .map_or(&Yaml::BadValue, |doc| &doc["output"]);
    let events = match &output["events"] {
        Yaml::BadValue => false,
        value => value
            .as_bool()
            .ok_or_else(|| bad("output.events: write true or false".into()))?,
    };
    let mut maps = Vec::new();
    if let Some(entries) = output["maps"].as_vec() {
        for (i, entry) in entries.iter().enumerate() {
            let name = entry["map"]
                .as_str()
                .ok_or_else(|| bad(format!("output.maps[{i}].map: name a map")))?;
            maps.push(name.to_string());
        }
    }
    if !events && maps.is_empty() {
        return Err(bad("output: declares neither events nor maps".into()));
    }
    Ok(Output { events, maps })
}
