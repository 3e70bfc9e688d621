//! Workflow templates: ComfyUI graphs in API format, loaded once, with a small
//! roles file naming — by `_meta.title`, never by node id — the nodes a job may set.
//!
//! `workflows/<name>.json` is the graph; `workflows/<name>.roles.json` is
//! `{"images": [titles of LoadImage nodes], "prompt": title|null, "seed": title|null,
//! "output": title, "switches": {"lightning": title}}`. Every title must exist when the
//! template is loaded (at start-up), so a typo never waits for the first job.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// Errors loading or using a template.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The file could not be read.
    #[error("workflow {0}: {1}")]
    Io(String, std::io::Error),
    /// The file is not valid JSON of the expected shape.
    #[error("workflow {0}: bad JSON: {1}")]
    Json(String, serde_json::Error),
    /// A roles entry names a title no node has.
    #[error("workflow {0}: no node titled {1:?}")]
    UnknownTitle(String, String),
    /// The job gives more images than the template takes, or none.
    #[error("workflow {0}: takes 1..={1} images, got {2}")]
    ImageCount(String, usize, usize),
    /// No template of that name is loaded.
    #[error("unknown workflow {0:?}")]
    UnknownWorkflow(String),
}

#[derive(Debug, Clone, Deserialize)]
struct Roles {
    images: Vec<String>,
    prompt: Option<String>,
    seed: Option<String>,
    output: String,
    #[serde(default)]
    switches: HashMap<String, String>,
}

/// One loaded template with its settable nodes resolved to ids.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    graph: Value,
    images: Vec<String>,
    prompt: Option<String>,
    seed: Option<String>,
    output: String,
    switches: HashMap<String, String>,
}

/// What a job sets in a template.
#[derive(Debug, Clone)]
pub struct JobInputs<'a> {
    /// Uploaded input image names (1..=the template's count).
    pub images: &'a [String],
    /// The prompt.
    pub prompt: &'a str,
    /// The sampler seed.
    pub seed: u64,
    /// The output file name prefix.
    pub output_prefix: &'a str,
}

impl Template {
    /// Loads `<dir>/<name>.json` and `<dir>/<name>.roles.json`.
    ///
    /// # Errors
    /// [`WorkflowError`] for unreadable files, bad JSON or an unknown title.
    pub fn load(dir: &Path, name: &str) -> Result<Self, WorkflowError> {
        let read = |file: String| -> Result<Value, WorkflowError> {
            let path = dir.join(&file);
            let text =
                std::fs::read_to_string(&path).map_err(|e| WorkflowError::Io(file.clone(), e))?;
            serde_json::from_str(&text).map_err(|e| WorkflowError::Json(file, e))
        };
        let graph = read(format!("{name}.json"))?;
        let roles: Roles = serde_json::from_value(read(format!("{name}.roles.json"))?)
            .map_err(|e| WorkflowError::Json(format!("{name}.roles.json"), e))?;
        Self::from_parts(name, graph, roles)
    }

    fn from_parts(name: &str, graph: Value, roles: Roles) -> Result<Self, WorkflowError> {
        let find = |title: &str| -> Result<String, WorkflowError> {
            node_by_title(&graph, title)
                .ok_or_else(|| WorkflowError::UnknownTitle(name.to_owned(), title.to_owned()))
        };
        let images = roles
            .images
            .iter()
            .map(|t| find(t))
            .collect::<Result<Vec<_>, _>>()?;
        if images.is_empty() {
            return Err(WorkflowError::ImageCount(name.to_owned(), 0, 0));
        }
        let switches = roles
            .switches
            .iter()
            .map(|(k, t)| find(t).map(|id| (k.clone(), id)))
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(Self {
            name: name.to_owned(),
            images,
            prompt: roles.prompt.as_deref().map(find).transpose()?,
            seed: roles.seed.as_deref().map(find).transpose()?,
            output: find(&roles.output)?,
            switches,
            graph,
        })
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many input images the template takes at most.
    pub fn max_images(&self) -> usize {
        self.images.len()
    }

    /// The id of the node whose images are the result.
    pub fn output_node(&self) -> &str {
        &self.output
    }

    /// Sets a boolean switch (e.g. `lightning`) in the template itself; unknown names are
    /// ignored (not every template has every switch).
    pub fn set_switch(&mut self, name: &str, on: bool) {
        if let Some(id) = self.switches.get(name) {
            self.graph[id]["inputs"]["value"] = Value::Bool(on);
        }
    }

    /// A copy of the graph with the job's images, prompt, seed and output prefix set; image
    /// slots the job does not use are removed with every link to them.
    ///
    /// # Errors
    /// [`WorkflowError::ImageCount`] for 0 images or more than the template takes.
    pub fn build(&self, job: &JobInputs<'_>) -> Result<Value, WorkflowError> {
        let n = job.images.len();
        if n == 0 || n > self.images.len() {
            return Err(WorkflowError::ImageCount(
                self.name.clone(),
                self.images.len(),
                n,
            ));
        }
        let mut g = self.graph.clone();
        for (id, image) in self.images.iter().zip(job.images) {
            g[id]["inputs"]["image"] = Value::String(image.clone());
        }
        for unused in &self.images[n..] {
            remove_node(&mut g, unused);
        }
        if let Some(id) = &self.prompt {
            let key = if g[id]["inputs"].get("text").is_some() {
                "text"
            } else {
                "prompt"
            };
            g[id]["inputs"][key] = Value::String(job.prompt.to_owned());
        }
        if let Some(id) = &self.seed {
            let key = if g[id]["inputs"].get("noise_seed").is_some() {
                "noise_seed"
            } else {
                "seed"
            };
            g[id]["inputs"][key] = Value::from(job.seed);
        }
        g[&self.output]["inputs"]["filename_prefix"] = Value::String(job.output_prefix.to_owned());
        Ok(g)
    }
}

fn node_by_title(graph: &Value, title: &str) -> Option<String> {
    graph
        .as_object()?
        .iter()
        .find(|(_, node)| node["_meta"]["title"].as_str() == Some(title))
        .map(|(id, _)| id.clone())
}

/// Removes node `id` and every input that links to it.
fn remove_node(graph: &mut Value, id: &str) {
    let Some(nodes) = graph.as_object_mut() else {
        return;
    };
    nodes.remove(id);
    for node in nodes.values_mut() {
        if let Some(inputs) = node["inputs"].as_object_mut() {
            inputs.retain(|_, v| !(v.is_array() && v[0].as_str() == Some(id)));
        }
    }
}

/// Every template in a directory, by name.
#[derive(Debug, Clone, Default)]
pub struct Workflows {
    templates: HashMap<String, Template>,
    forced: Option<String>,
}

impl Workflows {
    /// Loads every `<name>.roles.json` pair in `dir`; with `forced`, every job uses that one.
    ///
    /// # Errors
    /// The first [`WorkflowError`]; also `UnknownWorkflow` when `forced` is not in `dir`.
    pub fn load_dir(dir: &Path, forced: Option<&str>) -> Result<Self, WorkflowError> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| WorkflowError::Io(dir.display().to_string(), e))?;
        let mut templates = HashMap::new();
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if let Some(name) = file.strip_suffix(".roles.json") {
                templates.insert(name.to_owned(), Template::load(dir, name)?);
            }
        }
        if let Some(f) = forced
            && !templates.contains_key(f)
        {
            return Err(WorkflowError::UnknownWorkflow(f.to_owned()));
        }
        Ok(Self {
            templates,
            forced: forced.map(str::to_owned),
        })
    }

    /// The template a job named `name` runs with.
    ///
    /// # Errors
    /// [`WorkflowError::UnknownWorkflow`] when none is loaded under that name.
    pub fn get(&self, name: &str) -> Result<&Template, WorkflowError> {
        let name = self.forced.as_deref().unwrap_or(name);
        self.templates
            .get(name)
            .ok_or_else(|| WorkflowError::UnknownWorkflow(name.to_owned()))
    }

    /// Applies a switch to every template that has it.
    pub fn set_switch(&mut self, name: &str, on: bool) {
        for t in self.templates.values_mut() {
            t.set_switch(name, on);
        }
    }

    /// What a report says this host runs: the forced workflow, else the loaded ones.
    pub fn describe(&self) -> String {
        if let Some(f) = &self.forced {
            return f.clone();
        }
        let mut names = self.names();
        names.sort_unstable();
        names.join(",")
    }

    /// Names of the loaded templates.
    pub fn names(&self) -> Vec<&str> {
        self.templates.keys().map(String::as_str).collect()
    }
}
